package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	kitchenv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/kitchen/v1"
)

const menuUsage = `usage: ftgo menu [flags] <restaurant-id>

Prints a restaurant's menu (KitchenService.GetMenu): each item's id, name and price.

flags:
  --kitchen-addr HOST:PORT  Kitchen Service (env FTGO_KITCHEN_ADDR; default 127.0.0.1:50053)
  --timeout DURATION        how long the call may take (default 10s)
`

func runMenu(ctx context.Context, args []string, io IO) error {
	fs := newFlagSet("menu")
	addr := addrFlag(fs, "kitchen-addr", "FTGO_KITCHEN_ADDR", defaultKitchenAddr, "Kitchen Service", io.Getenv)
	timeout := timeoutFlag(fs)
	restaurantID, err := parseOneID(fs, args, "restaurant id", "ftgo menu r-1")
	if err != nil {
		return err
	}
	if err := positiveDuration("timeout", *timeout); err != nil {
		return err
	}
	conn, err := dial(*addr, io.Getenv)
	if err != nil {
		return err
	}
	defer conn.Close()
	callCtx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	menu, err := kitchenv1.NewKitchenServiceClient(conn).GetMenu(callCtx,
		&kitchenv1.GetMenuRequest{RestaurantId: restaurantID})
	if err != nil {
		return callFailed("get the menu of "+restaurantID, err)
	}
	return writeMenu(io.Stdout, menu)
}

// writeMenu prints the restaurant's name and whether it is open, then a table of its items.
func writeMenu(w io.Writer, menu *kitchenv1.GetMenuResponse) error {
	r := menu.GetRestaurant()
	open := "open"
	if !r.GetOpen() {
		open = "closed"
	}
	fmt.Fprintf(w, "%s (%s, %s)\n", r.GetName(), r.GetRestaurantId(), open)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPRICE")
	for _, item := range menu.GetMenuItems() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", item.GetMenuItemId(), item.GetName(), formatMoney(item.GetPrice()))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write the menu: %w", err)
	}
	return nil
}
