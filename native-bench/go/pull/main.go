// Command pull pulls an image the way CRI, nerdctl and the Go client's Pull
// with WithPullUnpack do: through containerd's unpacker, which Prepares each
// layer with its chain ID as the containerd.io/snapshot.ref label, so that a
// snapshotter holding the layer already can answer AlreadyExists. ctr's pull
// unpacks through Image.Unpack instead and sends no such label. It prints
// one JSON object: how long the pull took, and the image's name.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/remotes/docker"
)

func main() {
	address := flag.String("address", "/run/containerd/containerd.sock", "containerd's socket")
	namespace := flag.String("namespace", "default", "the namespace to pull into")
	snapshotter := flag.String("snapshotter", "overlayfs", "the snapshotter to unpack into")
	plainHTTP := flag.Bool("plain-http", false, "reach the registry over plain HTTP")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: pull [flags] REFERENCE")
		os.Exit(2)
	}
	client, err := containerd.New(*address)
	if err != nil {
		fail(err)
	}
	defer client.Close()
	ctx := namespaces.WithNamespace(context.Background(), *namespace)
	resolver := docker.NewResolver(docker.ResolverOptions{PlainHTTP: *plainHTTP})
	start := time.Now()
	image, err := client.Pull(ctx, flag.Arg(0), containerd.WithPullUnpack, containerd.WithPullSnapshotter(*snapshotter), containerd.WithResolver(resolver))
	if err != nil {
		fail(err)
	}
	out, _ := json.Marshal(map[string]interface{}{"seconds": time.Since(start).Seconds(), "name": image.Name()})
	fmt.Println(string(out))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "pull:", err)
	os.Exit(1)
}
