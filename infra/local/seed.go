package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/facepay/platform/infra/local/cloud"
)

// The demo: demo-vendor is an approved device vendor (it can register models at once),
// other-vendor's application waits in the review queue. Seeded through the public API, as a
// client would, so the demo exercises the same paths as everything else.
var (
	alice   = cloud.Identity{Subject: "alice", Org: "demo-vendor", Role: "vendor", AccountType: "service_provider"}
	bob     = cloud.Identity{Subject: "bob", Org: "other-vendor", Role: "vendor", AccountType: "service_provider"}
	rita    = cloud.Identity{Subject: "rita", Role: "reviewer"}
	demoPDF = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
)

func seed(ctx context.Context, c *cloud.Cloud) error {
	a, err := applyAs(ctx, c, alice, "Demo Devices Ltd")
	if err != nil {
		return fmt.Errorf("seed demo-vendor: %w", err)
	}
	if _, err := call(ctx, c, rita, "POST", "/admin/applications/"+a+"/decision", map[string]any{"decision": "approve"}); err != nil {
		return err
	}
	if err := c.FireSchedule(ctx, "WeeklyRelease"); err != nil {
		return err
	}
	if _, err := applyAs(ctx, c, bob, "Other Devices Ltd"); err != nil {
		return fmt.Errorf("seed other-vendor: %w", err)
	}
	return nil
}

func applyAs(ctx context.Context, c *cloud.Cloud, id cloud.Identity, company string) (string, error) {
	app, err := call(ctx, c, id, "POST", "/applications", map[string]any{
		"partnerType": "device_vendor", "company": map[string]any{"name": company}, "agreementAccepted": true,
		"survey": map[string]string{"plannedModels": "2", "annualVolume": "5000"},
	})
	if err != nil {
		return "", err
	}
	appID := app["id"].(string)
	sum := sha256.Sum256(demoPDF)
	att, err := call(ctx, c, id, "PUT", "/applications/"+appID+"/attachments/deck", map[string]any{
		"fileName": "deck.pdf", "contentType": "application/pdf", "size": len(demoPDF), "sha256": hex.EncodeToString(sum[:]),
	})
	if err != nil {
		return "", err
	}
	up := att["upload"].(map[string]any)
	req, _ := http.NewRequestWithContext(ctx, "PUT", up["url"].(string), bytes.NewReader(demoPDF))
	for k, v := range up["headers"].(map[string]any) {
		req.Header.Set(k, v.(string))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("upload: %s", resp.Status)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		got, err := call(ctx, c, id, "GET", "/applications/"+appID, nil)
		if err != nil {
			return "", err
		}
		if deck, _ := got["attachments"].(map[string]any)["deck"].(map[string]any); deck["status"] == "received" {
			break
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("the deck upload was never received")
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	_, err = call(ctx, c, id, "POST", "/applications/"+appID+"/submit", nil)
	return appID, err
}

func call(ctx context.Context, c *cloud.Cloud, id cloud.Identity, method, path string, body any) (map[string]any, error) {
	tok, err := c.Token(id)
	if err != nil {
		return nil, err
	}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(ctx, method, c.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("%s %s: %s %s", method, path, resp.Status, raw)
	}
	var out map[string]any
	return out, json.Unmarshal(raw, &out)
}

func printDemo(ctx context.Context, c *cloud.Cloud) error {
	if err := seed(ctx, c); err != nil {
		return err
	}
	fmt.Println("\nSeeded: demo-vendor is an approved device vendor; other-vendor's application waits for review.")
	fmt.Println("Demo tokens (valid 12 h; `make token ROLE=... ORG=...` mints more):")
	for _, x := range []struct {
		env string
		id  cloud.Identity
	}{{"VENDOR", alice}, {"OTHER_VENDOR", bob}, {"REVIEWER", rita}} {
		tok, err := c.Token(x.id)
		if err != nil {
			return err
		}
		fmt.Printf("  export %s=%s\n", x.env, tok)
	}
	return nil
}
