package messaging

import "testing"

// The values come from packages/platform/src/messaging/channels.ts's partitionOf: Go and TypeScript must
// put one order's events on the same partition.
func TestPartitionOfMatchesTheTypeScriptServices(t *testing.T) {
	for _, c := range []struct {
		key      string
		of4, of7 int
	}{{"o-1", 0, 4}, {"order-42", 0, 4}, {"ä-ü", 2, 1}, {"3f2a9c1e-0000-4000-8000-000000000000", 3, 2}} {
		if got := PartitionOf(c.key, 4); got != c.of4 {
			t.Errorf("PartitionOf(%q, 4) = %d, want %d", c.key, got, c.of4)
		}
		if got := PartitionOf(c.key, 7); got != c.of7 {
			t.Errorf("PartitionOf(%q, 7) = %d, want %d", c.key, got, c.of7)
		}
	}
}

func TestEventSubjectsAreTheTypeScriptOnes(t *testing.T) {
	got, err := EventSubject("ftgo.loyalty.v1.PointsEarned", 2)
	if err != nil || got != "ftgo.loyalty.event.points_earned.2" {
		t.Fatalf("got %q, %v", got, err)
	}
	if EventName("CreditCardAuthorized") != "credit_card_authorized" || EventName("OrderCancelRequested") != "order_cancel_requested" {
		t.Fatal("snake_case names differ from channels.ts's eventName")
	}
	if _, err := EventSubject("PointsEarned", 0); err == nil {
		t.Fatal("a type name outside ftgo.<domain>.<version> was accepted")
	}
}

func TestChannelOfDropsThePartition(t *testing.T) {
	for subject, want := range map[string]string{
		"ftgo.order.event.order_approved.3": "ftgo.order.event.order_approved",
		"ftgo.loyalty.event.points_earned":  "ftgo.loyalty.event.points_earned",
	} {
		if got := ChannelOf(subject); got != want {
			t.Errorf("ChannelOf(%q) = %q, want %q", subject, got, want)
		}
	}
}
