package messaging

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ftgo-mesh/ftgo-mesh/go/internal/logging"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/metrics"
	"github.com/ftgo-mesh/ftgo-mesh/go/internal/telemetry"
)

// OutboxTable is the outbox (a sqldb DDL template): events written in the transaction that makes the
// change they announce, published afterwards by the relay (outbox.ts). `seq` is the publishing order;
// `headers` (JSON) and `payload` are exactly what goes on the wire. Times are ms since the epoch.
const OutboxTable = `CREATE TABLE IF NOT EXISTS outbox (
	seq            {{serial}},
	message_id     TEXT NOT NULL UNIQUE,
	subject        TEXT NOT NULL,
	type           TEXT NOT NULL,
	correlation_id TEXT NOT NULL,
	headers        TEXT NOT NULL,
	payload        {{bytes}} NOT NULL,
	created_at     BIGINT NOT NULL,
	published_at   BIGINT
)`

// Caused is what an appended event inherits from the message that caused it.
type Caused struct {
	CorrelationID string
	CausationID   string
	RequestID     string
	TraceParent   string
}

// AppendEvent writes an event of `typeName` to the outbox inside tx, with a fresh message id, its
// subject partitioned by the correlation id, and the envelope headers. It returns the message id.
func AppendEvent(tx *sql.Tx, typeName string, payload []byte, caused Caused, partitions int) (string, error) {
	if caused.CorrelationID == "" {
		return "", fmt.Errorf("outbox append of %s: correlation id is empty", typeName)
	}
	subject, err := EventSubject(typeName, PartitionOf(caused.CorrelationID, partitions))
	if err != nil {
		return "", err
	}
	env := Envelope{
		MessageID: uuid.NewString(), Type: typeName, CorrelationID: caused.CorrelationID,
		CausationID: caused.CausationID, RequestID: caused.RequestID, TraceParent: caused.TraceParent,
	}
	headers, err := json.Marshal(env.Headers())
	if err != nil {
		return "", fmt.Errorf("encoding headers: %w", err)
	}
	_, err = tx.Exec(`INSERT INTO outbox (message_id, subject, type, correlation_id, headers, payload, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, env.MessageID, subject, typeName, env.CorrelationID, string(headers), payload, time.Now().UnixMilli())
	if err != nil {
		return "", fmt.Errorf("appending %s to the outbox: %w", typeName, err)
	}
	return env.MessageID, nil
}

// Relay publishes committed outbox rows to JetStream in order, marking each published only once
// JetStream stored it. A crash in between publishes the row again at the next start; its Nats-Msg-Id
// (the message id) makes JetStream drop the copy, and receivers' processed-messages tables drop
// anything that still gets through. At least once on the wire, once in effect. Of several instances
// sharing the database, only the one holding the lease publishes; the others poll, and take over
// within LeaseDuration of the holder's death.
type Relay struct {
	db    *sql.DB
	js    jetstream.JetStream
	log   *slog.Logger
	lease *Lease
	// renewedAt is when this relay last renewed its lease: it renews again past half a lease, mid-batch too.
	renewedAt time.Time
	kick      chan struct{}
	stop      chan struct{}
	done      chan struct{}
	once      sync.Once
}

// StartRelay starts publishing; it looks for rows every `poll` as well as when kicked.
func StartRelay(db *sql.DB, js jetstream.JetStream, log *slog.Logger, poll time.Duration) (*Relay, error) {
	lease := NewLease(db, uuid.NewString())
	r := &Relay{
		db: db, js: js, log: log, lease: lease,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go r.run(poll)
	return r, nil
}

// Kick asks for a publish now: call after committing a transaction that appended events.
func (r *Relay) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Stop publishes what is pending once more (unless the broker is away) and stops.
func (r *Relay) Stop() {
	r.once.Do(func() { close(r.stop) })
	<-r.done
}

func (r *Relay) run(poll time.Duration) {
	defer close(r.done)
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	outage := logging.Outage{Log: r.log, Failing: "outbox relay failing; retrying", Recovered: "outbox relay recovered"}
	for {
		outage.Report(r.publishPending())
		select {
		case <-r.stop:
			if err := r.publishPending(); err != nil {
				r.log.Warn("outbox rows left unpublished at stop; they go at the next start", "err", err)
			}
			if err := r.lease.Release(); err != nil {
				r.log.Warn("could not release the outbox lease; another instance takes it once it expires", "err", err)
			}
			return
		case <-r.kick:
		case <-ticker.C:
		}
	}
}

type outboxRow struct {
	seq       int64
	messageID string
	subject   string
	headers   string
	payload   []byte
	createdAt int64 // ms since the epoch: its commit
}

// holdsLease renews the lease when half of it has gone by (or it is not held): true while this relay may publish.
func (r *Relay) holdsLease() (bool, error) {
	if !r.renewedAt.IsZero() && time.Since(r.renewedAt) < LeaseDuration/2 {
		return true, nil
	}
	held, err := r.lease.Renew()
	if err != nil || !held {
		r.renewedAt = time.Time{}
		return false, err
	}
	r.renewedAt = time.Now()
	return true, nil
}

func (r *Relay) publishPending() error {
	if held, err := r.holdsLease(); err != nil || !held {
		return err // another instance's relay publishes; this one asks again at the next poll
	}
	rows, err := r.pending()
	if err != nil {
		return err
	}
	for _, row := range rows {
		// A batch may outlast half a lease (each publish may wait seconds for its ack): renew as it goes.
		if held, err := r.holdsLease(); err != nil || !held {
			return err
		}
		var headers map[string]string
		if err := json.Unmarshal([]byte(row.headers), &headers); err != nil {
			return fmt.Errorf("outbox row %d has unreadable headers: %w", row.seq, err)
		}
		msg := nats.NewMsg(row.subject)
		for name, value := range headers {
			msg.Header.Set(name, value)
		}
		msg.Data = row.payload
		// Continues the trace the row was written in, and hands the consumer its own context.
		span := telemetry.PublishSpan(telemetry.Message{
			Subject: row.subject, Channel: ChannelOf(row.subject), MessageID: row.messageID, OrderID: headers[HeaderCorrelationID],
		}, msg.Header)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_, err := r.js.PublishMsg(ctx, msg, jetstream.WithMsgID(row.messageID))
		cancel()
		telemetry.End(span, err)
		if err != nil {
			return fmt.Errorf("publishing %s: %w", row.subject, err)
		}
		metrics.Published(time.UnixMilli(row.createdAt))
		if _, err := r.db.Exec(`UPDATE outbox SET published_at = $1 WHERE seq = $2`, time.Now().UnixMilli(), row.seq); err != nil {
			return fmt.Errorf("marking outbox row %d published: %w", row.seq, err)
		}
	}
	// Published rows stay an hour, for inspection, as relay.ts keeps them.
	cutoff := time.Now().Add(-retention).UnixMilli()
	if _, err := r.db.Exec(`DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < $1`, cutoff); err != nil {
		return fmt.Errorf("deleting published outbox rows: %w", err)
	}
	return nil
}

// retention is how long published outbox rows are kept.
const retention = time.Hour

func (r *Relay) pending() ([]outboxRow, error) {
	rows, err := r.db.Query(`SELECT seq, message_id, subject, headers, payload, created_at FROM outbox
		WHERE published_at IS NULL ORDER BY seq LIMIT 100`)
	if err != nil {
		return nil, fmt.Errorf("reading the outbox: %w", err)
	}
	defer rows.Close()
	var out []outboxRow
	for rows.Next() {
		var row outboxRow
		if err := rows.Scan(&row.seq, &row.messageID, &row.subject, &row.headers, &row.payload, &row.createdAt); err != nil {
			return nil, fmt.Errorf("reading an outbox row: %w", err)
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// Backlog is the outbox's unpublished rows and the age of the oldest of them, for the metrics' gauges.
func Backlog(db *sql.DB) (int, time.Duration) {
	var rows int
	var oldest sql.NullInt64
	if err := db.QueryRow(`SELECT COUNT(*), MIN(created_at) FROM outbox WHERE published_at IS NULL`).Scan(&rows, &oldest); err != nil {
		return 0, 0
	}
	if !oldest.Valid {
		return rows, 0
	}
	return rows, max(0, time.Since(time.UnixMilli(oldest.Int64)))
}
