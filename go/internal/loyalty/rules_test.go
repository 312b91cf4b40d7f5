package loyalty

import (
	"testing"

	commonv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/common/v1"
)

func TestPointsAreWholeUnitsOfTheTotal(t *testing.T) {
	for _, c := range []struct {
		currency string
		minor    int64
		want     int64
	}{{"USD", 1500, 15}, {"USD", 1599, 15}, {"EUR", 99, 0}, {"JPY", 1500, 1500}, {"KWD", 12345, 12}, {"USD", -500, 0}} {
		if got := PointsFor(&commonv1.Money{CurrencyCode: c.currency, MinorUnits: c.minor}); got != c.want {
			t.Errorf("%d %s: got %d points, want %d", c.minor, c.currency, got, c.want)
		}
	}
	if PointsFor(nil) != 0 {
		t.Error("an order without a total earns nothing")
	}
}

func TestSettleDependsOnWhatWasHeardNotWhen(t *testing.T) {
	for _, c := range []struct {
		name  string
		facts Facts
		want  State
	}{
		{"created only", Facts{Created: true}, Pending},
		{"approved", Facts{Created: true, Approved: true}, Earned},
		{"approved before created", Facts{Approved: true}, Earned},
		{"rejected", Facts{Created: true, Rejected: true}, None},
		{"cancelled after approval", Facts{Created: true, Approved: true, Cancelled: true}, Revoked},
		{"cancelled while pending", Facts{Created: true, Cancelled: true}, None},
	} {
		if got := Settle(c.facts); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestChangeCreditsOnceAndTakesBackOnlyWhatWasCredited(t *testing.T) {
	if c := ChangeFor(Pending, Earned, 15); c != (Change{15, 1, "earned"}) {
		t.Errorf("earning: %+v", c)
	}
	if c := ChangeFor(Earned, Earned, 15); c != (Change{}) {
		t.Errorf("earning twice: %+v", c)
	}
	if c := ChangeFor(Earned, Revoked, 15); c != (Change{-15, -1, "revoked"}) {
		t.Errorf("revoking: %+v", c)
	}
	if c := ChangeFor(Pending, Revoked, 15); c != (Change{}) {
		t.Errorf("revoking what was never credited: %+v", c)
	}
}
