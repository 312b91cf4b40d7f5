package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	commonv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/common/v1"
	kitchenv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/kitchen/v1"
	orderv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/order/v1"
	orderv2 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/order/v2"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func usd(minor int64) *commonv1.Money { return &commonv1.Money{CurrencyCode: "USD", MinorUnits: minor} }

func TestWriteMenuIsATable(t *testing.T) {
	var out bytes.Buffer
	err := writeMenu(&out, &kitchenv1.GetMenuResponse{
		Restaurant: &kitchenv1.Restaurant{RestaurantId: "r-1", Name: "Pho Hanoi", Open: true},
		MenuItems: []*kitchenv1.MenuItem{
			{MenuItemId: "m-1", Name: "Pho bo", Price: usd(650)},
			{MenuItemId: "m-3", Name: "Ca phe sua da", Price: usd(200)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "Pho Hanoi (r-1, open)\n" +
		"ID   NAME           PRICE\n" +
		"m-1  Pho bo         USD 6.50\n" +
		"m-3  Ca phe sua da  USD 2.00\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestWriteOrderShowsIdStateTotalAndLines(t *testing.T) {
	var out bytes.Buffer
	err := writeOrder(&out, &orderv2.Order{
		OrderId: "o-1", IdempotencyKey: "k-1", State: orderv2.OrderState_ORDER_STATE_APPROVAL_PENDING,
		Total: usd(1500), PriceSource: orderv2.PriceSource_PRICE_SOURCE_CURRENT_MENU,
		LineItems: []*orderv2.OrderLineItem{
			{MenuItemId: "m-1", Name: "Pho bo", Quantity: 2, Total: usd(1300)},
			{MenuItemId: "m-3", Name: "Ca phe sua da", Quantity: 1, Total: usd(200)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "order o-1  APPROVAL_PENDING  total USD 15.00  (idempotency key k-1)\n" +
		"  2 × m-1  Pho bo         USD 13.00\n" +
		"  1 × m-3  Ca phe sua da  USD 2.00\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestStateLineNamesTheStateAndTheReason(t *testing.T) {
	at := time.Date(2030, 1, 1, 18, 30, 0, 0, time.Local)
	line := stateLine(&orderv2.Order{OrderId: "o-1", State: orderv2.OrderState_ORDER_STATE_REJECTED,
		RejectionReason: "card declined", UpdateTime: timestamppb.New(at)})
	if line != "18:30:00.000  o-1  REJECTED: card declined" {
		t.Errorf("got %q", line)
	}
}

func TestEventLineDecodesTheBodyByItsType(t *testing.T) {
	body, err := proto.Marshal(&orderv1.OrderCreated{OrderId: "o-1", ConsumerId: "c-1001", RestaurantId: "r-1", Total: usd(1500)})
	if err != nil {
		t.Fatal(err)
	}
	line := eventLine("ftgo.order.event.order_created.2", "ftgo.order.v1.OrderCreated", "o-1", protobufContentType, body)
	want := `ftgo.order.event.order_created.2  ftgo.order.v1.OrderCreated  order=o-1  ` +
		`{"orderId":"o-1","consumerId":"c-1001","restaurantId":"r-1","total":{"currencyCode":"USD","minorUnits":"1500"}}`
	if line != want {
		t.Errorf("got\n%s\nwant\n%s", line, want)
	}
}

func TestEventLineSaysWhyABodyIsNotDecoded(t *testing.T) {
	cases := map[string]struct{ typeName, contentType, want string }{
		"unknown type": {"ftgo.nope.v1.Nope", protobufContentType, "type ftgo.nope.v1.Nope is not in the contract"},
		"no type":      {"", protobufContentType, "no Ftgo-Type header"},
		"not protobuf": {"ftgo.order.v1.OrderCreated", "application/json", `content type "application/json"`},
		"bad body":     {"ftgo.order.v1.OrderCreated", protobufContentType, "body is not a valid ftgo.order.v1.OrderCreated"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			line := eventLine("ftgo.order.event.x.0", c.typeName, "", c.contentType, []byte{0xff, 0xff})
			if !strings.Contains(line, "(2 bytes not decoded: ") || !strings.Contains(line, c.want) || !strings.Contains(line, "order=-") {
				t.Errorf("got %q, want it to say %q", line, c.want)
			}
		})
	}
}
