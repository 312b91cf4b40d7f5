package cli

import (
	"regexp"
	"strconv"
	"strings"

	orderv2 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/order/v2"
)

// The contract's limits (proto/ftgo/order/v2/order.proto), checked here so bad input is refused before a call.
const (
	maxQuantity = 100
	maxLines    = 50
	maxIDLength = 64
)

// idPattern is the contract's pattern of every id (consumer, restaurant, menu item, order).
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]*$`)

// quantitySuffix is an item's `x<quantity>`: m-1x2 is two of m-1 (an id that merely ends in x is an id).
var quantitySuffix = regexp.MustCompile(`^(.*)x([0-9]+)$`)

// checkID refuses what the contract would refuse as an id, naming what it is.
func checkID(what, id string) error {
	switch {
	case id == "":
		return usagef("%s is empty", what)
	case len(id) > maxIDLength:
		return usagef("%s %q is longer than %d characters", what, id, maxIDLength)
	case !idPattern.MatchString(id):
		return usagef("%s %q may hold only letters, digits and _.:- (and must start with a letter or digit)", what, id)
	}
	return nil
}

// parseItems reads the order's lines: `m-3` is one m-3, `m-1x2` two of m-1 (quantity 1 to 100).
func parseItems(args []string) ([]*orderv2.LineItemRequest, error) {
	if len(args) == 0 {
		return nil, usagef("name at least one item, e.g. m-1x2 (two of m-1) or m-3 (one)")
	}
	if len(args) > maxLines {
		return nil, usagef("an order has at most %d lines, not %d", maxLines, len(args))
	}
	items := make([]*orderv2.LineItemRequest, 0, len(args))
	for _, arg := range args {
		item, err := parseItem(arg)
		if err != nil {
			return nil, err
		}
		items = append(items, item)
	}
	return items, nil
}

func parseItem(arg string) (*orderv2.LineItemRequest, error) {
	id, quantity := arg, 1
	if m := quantitySuffix.FindStringSubmatch(arg); m != nil {
		digits := strings.TrimLeft(m[2], "0")
		n, err := strconv.Atoi(digits)
		if digits == "" || err != nil || n > maxQuantity {
			return nil, usagef("item %q: the quantity must be 1 to %d, not %s", arg, maxQuantity, m[2])
		}
		id, quantity = m[1], n
	}
	if err := checkID("item "+strconv.Quote(arg)+": menu item id", id); err != nil {
		return nil, err
	}
	return &orderv2.LineItemRequest{MenuItemId: id, Quantity: int32(quantity)}, nil
}
