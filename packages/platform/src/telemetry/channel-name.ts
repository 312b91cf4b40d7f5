/**
 * `ftgo.order.event.order_created.3` → `ftgo.order.event.order_created`: the channel a subject belongs to,
 * without its partition. What spans are named after and what metrics count by: few values, every one meaningful.
 */
export function channelName(subject: string): string {
  const dot = subject.lastIndexOf(".");
  return /^\d+$/.test(subject.slice(dot + 1)) ? subject.slice(0, dot) : subject;
}
