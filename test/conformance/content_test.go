package conformance

import (
	"context"
	"testing"

	contentapi "github.com/containerd/containerd/api/services/content/v1"
	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/content/proxy"
	"github.com/containerd/containerd/content/testsuite"
)

// containerd's content store suite through its content proxy client, with a
// fresh strata per case. The content store does not depend on the backend.
func TestContent(t *testing.T) {
	testsuite.ContentSuite(t, "Strata", func(ctx context.Context, root string) (context.Context, content.Store, func() error, error) {
		conn, stop, err := startStrata(ctx, root, "native")
		if err != nil {
			return nil, nil, nil, err
		}
		return ctx, proxy.NewContentStore(contentapi.NewContentClient(conn)), stop, nil
	})
}
