package menuserver

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	kitchenv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/kitchen/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// serve starts the menu server on a free loopback port and returns a connection to it; both are closed
// when the test ends.
func serve(t *testing.T) *grpc.ClientConn {
	t.Helper()
	menus, err := NewMenus()
	if err != nil {
		t.Fatal(err)
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server, _ := NewServer(menus)
	done := make(chan error, 1)
	go func() { done <- server.Serve(listener) }()
	t.Cleanup(func() {
		server.GracefulStop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	conn, err := grpc.NewClient(listener.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func callContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestGetMenuServesTheSeedMenuOfR1(t *testing.T) {
	client := kitchenv1.NewKitchenServiceClient(serve(t))
	got, err := client.GetMenu(callContext(t), &kitchenv1.GetMenuRequest{RestaurantId: "r-1"})
	if err != nil {
		t.Fatalf("GetMenu r-1: %v", err)
	}
	if r := got.GetRestaurant(); r.GetRestaurantId() != "r-1" || r.GetName() != "Pho Hanoi" || !r.GetOpen() {
		t.Errorf("restaurant = %v, want r-1 Pho Hanoi, open", r)
	}
	var items []string
	for _, item := range got.GetMenuItems() {
		price := item.GetPrice()
		items = append(items, item.GetMenuItemId()+" "+item.GetName()+" "+price.GetCurrencyCode()+" "+strconv.FormatInt(price.GetMinorUnits(), 10))
	}
	want := "m-1 Pho bo USD 650, m-2 Banh mi USD 300, m-3 Ca phe sua da USD 200"
	if strings.Join(items, ", ") != want {
		t.Errorf("menu items = %q, want %q", strings.Join(items, ", "), want)
	}
}

func TestGetMenuAnswersNotFoundForAnUnknownRestaurant(t *testing.T) {
	client := kitchenv1.NewKitchenServiceClient(serve(t))
	_, err := client.GetMenu(callContext(t), &kitchenv1.GetMenuRequest{RestaurantId: "r-404"})
	if status.Code(err) != codes.NotFound || !strings.Contains(status.Convert(err).Message(), "r-404") {
		t.Fatalf("GetMenu r-404: %v, want NotFound naming r-404", err)
	}
}

func TestGetMenuRejectsARequestBreakingTheContractLimits(t *testing.T) {
	client := kitchenv1.NewKitchenServiceClient(serve(t))
	for name, id := range map[string]string{"missing": "", "bad pattern": "r 1", "too long": strings.Repeat("r", 65)} {
		_, err := client.GetMenu(callContext(t), &kitchenv1.GetMenuRequest{RestaurantId: id})
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "restaurant_id") {
			t.Errorf("%s restaurant id: %v, want InvalidArgument naming restaurant_id", name, err)
		}
	}
}

func TestHealthReportsServing(t *testing.T) {
	health := healthpb.NewHealthClient(serve(t))
	for _, service := range []string{"", "ftgo.kitchen.v1.KitchenService"} {
		got, err := health.Check(callContext(t), &healthpb.HealthCheckRequest{Service: service})
		if err != nil || got.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health %q: %v %v, want SERVING", service, got.GetStatus(), err)
		}
	}
}
