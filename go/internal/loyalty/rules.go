// Package loyalty is the Loyalty service's domain: the points rules, its SQLite store (with the inbox
// and the outbox, so each effect, the record of its cause and the event announcing it commit together),
// the handlers of Order's events, and the gRPC API.
package loyalty

import (
	"math"

	commonv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/common/v1"
	loyaltyv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/loyalty/v1"
)

// State is where an order stands for Loyalty (the contract's OrderPointsState).
type State = loyaltyv1.OrderPointsState

const (
	Pending = loyaltyv1.OrderPointsState_ORDER_POINTS_STATE_PENDING
	Earned  = loyaltyv1.OrderPointsState_ORDER_POINTS_STATE_EARNED
	None    = loyaltyv1.OrderPointsState_ORDER_POINTS_STATE_NONE
	Revoked = loyaltyv1.OrderPointsState_ORDER_POINTS_STATE_REVOKED
)

// minorDigits are the ISO 4217 currencies whose minor unit is not a hundredth.
var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
	"UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

// PointsFor is what an order of `total` earns: one point per whole unit of its currency (USD 15.99
// earns 15, JPY 1500 earns 1500); nothing for a missing or negative total.
func PointsFor(total *commonv1.Money) int64 {
	if total.GetMinorUnits() <= 0 {
		return 0
	}
	digits, ok := minorDigits[total.GetCurrencyCode()]
	if !ok {
		digits = 2
	}
	return total.GetMinorUnits() / int64(math.Pow10(digits))
}

// Facts are what Loyalty has heard of one order, in whatever order the events arrived.
type Facts struct {
	Created    bool
	ConsumerID string
	Points     int64
	Approved   bool
	Rejected   bool
	Cancelled  bool
}

// Settle is the state the facts call for. Events of one order normally arrive in publishing order (one
// partition, one message in flight), but a redelivery or a replayed dead letter can reorder them, so the
// answer depends only on what has been heard, never on when:
//   - cancelled after approval → REVOKED; cancelled or rejected without approval → NONE;
//   - approved → EARNED; otherwise PENDING.
func Settle(f Facts) State {
	switch {
	case f.Cancelled && f.Approved:
		return Revoked
	case f.Cancelled, f.Rejected && !f.Approved:
		return None
	case f.Approved:
		return Earned
	default:
		return Pending
	}
}

// Change is what moving an order from one state to another does to its consumer's balance and which
// event announces it: credit on reaching EARNED, debit on leaving EARNED for REVOKED. An order that
// reaches REVOKED without ever having been credited (its approval and cancellation both heard before its
// creation) changes no balance and announces nothing.
type Change struct {
	Delta  int64
	Orders int64
	Event  string // "", "earned" or "revoked"
}

// ChangeFor is the Change of moving from `from` to `to` for an order worth `points`.
func ChangeFor(from, to State, points int64) Change {
	switch {
	case to == Earned && from != Earned:
		return Change{Delta: points, Orders: 1, Event: "earned"}
	case from == Earned && to == Revoked:
		return Change{Delta: -points, Orders: -1, Event: "revoked"}
	default:
		return Change{}
	}
}
