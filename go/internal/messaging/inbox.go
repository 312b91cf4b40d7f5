package messaging

import (
	"database/sql"
	"fmt"
	"time"
)

// InboxTable is processed_messages (a sqldb DDL template), the idempotent consumer's memory (inbox.ts):
// one row per handled message id, written in the same transaction as the handler's effect.
const InboxTable = `CREATE TABLE IF NOT EXISTS processed_messages (
	message_id   TEXT PRIMARY KEY,
	type         TEXT NOT NULL,
	processed_at BIGINT NOT NULL
)`

// MarkProcessed records the message as handled inside tx; false when it already was (a duplicate,
// whose effect must not be applied again).
func MarkProcessed(tx *sql.Tx, env Envelope) (bool, error) {
	res, err := tx.Exec(`INSERT INTO processed_messages (message_id, type, processed_at) VALUES ($1, $2, $3)
		ON CONFLICT (message_id) DO NOTHING`,
		env.MessageID, env.Type, time.Now().UnixMilli())
	if err != nil {
		return false, fmt.Errorf("recording message %s: %w", env.MessageID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("recording message %s: %w", env.MessageID, err)
	}
	return n == 1, nil
}
