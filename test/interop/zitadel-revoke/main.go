// Command zitadel-revoke revokes one token the way a Go TPP does with zitadel/oidc: a relying
// party built from the server's metadata, then rp.RevokeToken. The interop test
// (../zitadel-oidc.e2e-spec.ts) runs it against the gateway; nothing here is the gateway's code.
//
// It prints "revoked" and exits 0 on success, or prints the library's error and exits 1.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"golang.org/x/oauth2"
)

func main() {
	issuer := flag.String("issuer", "", "the gateway's issuer (RFC 8414 metadata below it)")
	clientID := flag.String("client-id", "", "")
	secret := flag.String("secret", "", "client secret (basic, post)")
	token := flag.String("token", "", "the token to revoke")
	hint := flag.String("hint", "", "token_type_hint")
	auth := flag.String("auth", "basic", "basic | post | jwt")
	keyFile := flag.String("key", "", "PEM private key (jwt)")
	keyID := flag.String("kid", "", "key id (jwt)")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	options := []rp.Option{rp.WithCustomDiscoveryUrl(*issuer + "/.well-known/oauth-authorization-server")}
	switch *auth {
	case "basic":
		options = append(options, rp.WithAuthStyle(oauth2.AuthStyleInHeader))
	case "post":
		options = append(options, rp.WithAuthStyle(oauth2.AuthStyleInParams))
	case "jwt":
		key, err := os.ReadFile(*keyFile)
		if err != nil {
			fail(err)
		}
		options = append(options, rp.WithAuthStyle(oauth2.AuthStyleInParams), rp.WithJWTProfile(rp.SignerFromKeyAndKeyID(key, *keyID)))
	default:
		fail(fmt.Errorf("unknown -auth %q", *auth))
	}
	party, err := rp.NewRelyingPartyOIDC(ctx, *issuer, *clientID, *secret, "", nil, options...)
	if err != nil {
		fail(err)
	}
	if err := rp.RevokeToken(ctx, party, *token, *hint); err != nil {
		fail(err)
	}
	fmt.Println("revoked")
}

func fail(err error) {
	fmt.Println(err)
	os.Exit(1)
}
