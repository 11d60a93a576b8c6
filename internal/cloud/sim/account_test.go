package sim

import (
	"context"
	"strings"
	"testing"
)

// TestAccount: a new cloud takes its account from the options (Account by
// default), its ARNs and events carry it, and an existing cloud keeps the
// account it was created with, as it keeps its seed.
func TestAccount(t *testing.T) {
	h := start(t, func(o *Options) { o.Account = "210987654321" })
	acct, err := h.p.Account(context.Background())
	if err != nil || acct.ID != "210987654321" || acct.Region != "us-east-1" {
		t.Fatalf("Account() = %+v, %v", acct, err)
	}
	if arn := h.c.instanceARN("i-1"); !strings.Contains(arn, ":210987654321:") {
		t.Errorf("instance ARN %s", arn)
	}
	h.stop()
	h.open(func(o *Options) { o.Account = "999999999999" })
	if got := h.c.Account(); got != "210987654321" {
		t.Errorf("after a restart with another account: %s", got)
	}

	if d := start(t); d.c.Account() != Account {
		t.Errorf("default account %s, want %s", d.c.Account(), Account)
	}
}

func TestAccountValidate(t *testing.T) {
	for _, a := range []string{"12345", "12345678901a", "2109876543213"} {
		o := DefaultOptions()
		o.Account = a
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "--account-id") {
			t.Errorf("%q: %v", a, err)
		}
	}
	if err := DefaultOptions().Validate(); err != nil {
		t.Error(err)
	}
}
