package messaging

// Tables are the messaging tables a service's schema includes (sqldb DDL templates): the inbox, the
// outbox and the relay's lease.
var Tables = []string{InboxTable, OutboxTable, LeaseTable}
