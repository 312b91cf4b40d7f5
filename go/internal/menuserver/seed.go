package menuserver

import (
	commonv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/common/v1"
	kitchenv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/kitchen/v1"
)

// The seed restaurants of Kitchen Service, copied from services/kitchen/src/seed.ts (TypeScript, which a
// Go program cannot import). The copy is kept honest by test/polyglot-menu.test.ts, which asks the real
// Kitchen service and this server for every seed menu and requires equal messages: the benchmark compares
// two servers sending the very same bytes.

type seedItem struct {
	id, name   string
	priceMinor int64
}

type seedRestaurant struct {
	id, name string
	open     bool
	menu     []seedItem
}

// currency is the one currency of the seed menus (the Kitchen store prices everything in USD).
const currency = "USD"

var seedRestaurants = []seedRestaurant{
	{id: "r-1", name: "Pho Hanoi", open: true, menu: []seedItem{
		{id: "m-1", name: "Pho bo", priceMinor: 650},
		{id: "m-2", name: "Banh mi", priceMinor: 300},
		{id: "m-3", name: "Ca phe sua da", priceMinor: 200},
	}},
	{id: "r-2", name: "Bun Cha Corner", open: false, menu: []seedItem{
		{id: "m-10", name: "Bun cha", priceMinor: 500},
	}},
}

// seedMenus builds each seed restaurant's GetMenu answer once, keyed by restaurant id.
func seedMenus() map[string]*kitchenv1.GetMenuResponse {
	menus := make(map[string]*kitchenv1.GetMenuResponse, len(seedRestaurants))
	for _, r := range seedRestaurants {
		items := make([]*kitchenv1.MenuItem, 0, len(r.menu))
		for _, item := range r.menu {
			items = append(items, &kitchenv1.MenuItem{
				MenuItemId: item.id,
				Name:       item.name,
				Price:      &commonv1.Money{CurrencyCode: currency, MinorUnits: item.priceMinor},
			})
		}
		menus[r.id] = &kitchenv1.GetMenuResponse{
			Restaurant: &kitchenv1.Restaurant{RestaurantId: r.id, Name: r.name, Open: r.open},
			MenuItems:  items,
		}
	}
	return menus
}
