// Messaging: channels, messages (header + body), the transactional outbox and its relay, idempotent
// consumers (inbox) competing per partition, and dead letters. What services use; the rest stays inside.

export {
  type AsyncApiOptions,
  buildAsyncApi,
  type MessageFlow,
  type MessageKind,
  type MessageParty,
} from "./asyncapi.js";
export {
  type BrokerPermissions,
  type BrokerUser,
  type BrokerUsersOptions,
  brokerInboxPrefix,
  brokerUserName,
  brokerUsers,
  COURIER_IDENTITIES,
} from "./broker-access.js";
export {
  type BrokerClusterNode,
  BrokerPkiError,
  DEFAULT_ROUTE_PORT,
  type SecureBrokerConfigOptions,
  type SecureClusterNodeConfigOptions,
  secureBrokerConfig,
  secureClusterNodeConfig,
} from "./broker-config.js";
export { DEFAULT_MAX_PAYLOAD, MessageTooLargeError } from "./broker-limit.js";
export {
  type ChannelKind,
  commandSubject,
  DEFAULT_PARTITIONS,
  ensureEventStream,
  eventStreamName,
  eventSubject,
  isChannelSubject,
  parseChannelSubject,
  partitionOf,
  replyChannel,
  replySubject,
  requestSubject,
  streamName,
} from "./channels.js";
export { type ChannelCounts, type Consumers, type ConsumersOptions, startConsumers } from "./consumer.js";
export {
  DEAD_LETTER_STREAM,
  type DeadLetter,
  DeadLetterHeader,
  DeadLetterNotFoundError,
  listDeadLetters,
  ReplayRefusedError,
  replayDeadLetter,
} from "./dead-letters.js";
export {
  decodeBody,
  type Envelope,
  encodeBody,
  MalformedMessageError,
  MessageHeader,
  messageHeaders,
  PROTOBUF_CONTENT_TYPE,
  readEnvelope,
} from "./envelope.js";
export { createSchemaCollector, type SchemaCollector } from "./json-schema.js";
export { type ConnectNatsOptions, connectNats, identityOf, natsServers, natsTls } from "./nats.js";
export { type CommandMeta, createOutbox, type Outbox, type OutboxMeta, OutsideTransactionError } from "./outbox.js";
export { listParkedRows, type ParkedRow } from "./parked.js";
export { type OutboxRelay, type OutboxRelayOptions, type OutboxStats, startOutboxRelay } from "./relay.js";
export {
  type MessageContext,
  type MessageHandler,
  NoReplyChannelError,
  on,
  onCommand,
  onReply,
  replyingContext,
  type Subscription,
} from "./subscriptions.js";
