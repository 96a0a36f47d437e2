package main

import (
	"context"
	"fmt"

	"github.com/facepay/platform/infra/local/cloud"
)

// demo identities printed at start so a newcomer can call the API at once.
var demo = []cloud.Identity{
	{Subject: "alice", Org: "demo-vendor", Role: "vendor", AccountType: "service_provider"},
	{Subject: "bob", Org: "other-vendor", Role: "vendor", AccountType: "service_provider"},
	{Subject: "rita", Role: "reviewer"},
}

func printDemo(ctx context.Context, c *cloud.Cloud) error {
	fmt.Println("\nDemo tokens (valid 12 h):")
	for _, id := range demo {
		tok, err := c.Token(id)
		if err != nil {
			return err
		}
		fmt.Printf("  export %s=%s\n", envName(id), tok)
	}
	return nil
}

func envName(id cloud.Identity) string {
	switch {
	case id.Role == "reviewer":
		return "REVIEWER"
	case id.Org == "demo-vendor":
		return "VENDOR"
	default:
		return "OTHER_VENDOR"
	}
}
