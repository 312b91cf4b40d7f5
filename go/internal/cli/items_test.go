package cli

import (
	"errors"
	"strings"
	"testing"
)

func TestParseItemsReadsQuantities(t *testing.T) {
	items, err := parseItems([]string{"m-1x2", "m-3", "m-10x100", "box", "m-2x007"})
	if err != nil {
		t.Fatalf("parseItems: %v", err)
	}
	want := []struct {
		id       string
		quantity int32
	}{{"m-1", 2}, {"m-3", 1}, {"m-10", 100}, {"box", 1}, {"m-2", 7}}
	if len(items) != len(want) {
		t.Fatalf("got %d items, want %d", len(items), len(want))
	}
	for i, w := range want {
		if items[i].GetMenuItemId() != w.id || items[i].GetQuantity() != w.quantity {
			t.Errorf("item %d: got %s × %d, want %s × %d", i, items[i].GetMenuItemId(), items[i].GetQuantity(), w.id, w.quantity)
		}
	}
}

func TestParseItemsRefusesBadItems(t *testing.T) {
	cases := map[string]struct {
		args []string
		want string
	}{
		"no items":          {nil, "name at least one item"},
		"quantity 0":        {[]string{"m-1x0"}, `item "m-1x0": the quantity must be 1 to 100, not 0`},
		"quantity too big":  {[]string{"m-1x101"}, "the quantity must be 1 to 100, not 101"},
		"huge quantity":     {[]string{"m-1x99999999999999999999"}, "the quantity must be 1 to 100"},
		"empty id":          {[]string{"x2"}, "menu item id is empty"},
		"bad characters":    {[]string{"m 1"}, "may hold only letters, digits"},
		"leading separator": {[]string{"-m1"}, "may hold only letters, digits"},
		"too many lines":    {strings.Split(strings.Repeat("m-1 ", 51), " ")[:51], "at most 50 lines"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := parseItems(c.args)
			var usage *usageError
			if !errors.As(err, &usage) {
				t.Fatalf("got %v, want a usage error", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %q, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestCheckIDAcceptsTheContractsPattern(t *testing.T) {
	for _, id := range []string{"c-1001", "r-1", "o_1.2:3", strings.Repeat("a", 64)} {
		if err := checkID("id", id); err != nil {
			t.Errorf("checkID(%q): %v", id, err)
		}
	}
	if err := checkID("id", strings.Repeat("a", 65)); err == nil {
		t.Error("checkID accepted 65 characters")
	}
}
