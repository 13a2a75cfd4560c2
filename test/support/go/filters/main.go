// Command filters is containerd's own filter parser and matcher
// (github.com/containerd/containerd/filters), the reference model for
// test/e2e/filters-fuzz.test.ts. It reads one JSON request a line on stdin,
//
//	{"filters": ["..."], "objects": [{"fields": {"name": "..."}, "labels": {"k": "v"}}]}
//
// and writes one JSON line per request: ParseAll's error message ("" when the
// filters parse) and, when they parse, whether each object matches.
package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"strings"

	"github.com/containerd/containerd/filters"
	"github.com/sirupsen/logrus"
)

type object struct {
	Fields map[string]string `json:"fields"`
	Labels map[string]string `json:"labels"`
}

type request struct {
	Filters []string `json:"filters"`
	Objects []object `json:"objects"`
}

type response struct {
	Error   string `json:"error"`
	Matches []bool `json:"matches"`
}

// field is the adaptor strata's lookups share (src/filters/index.ts's
// labelField): a one-element path names a field, labels.K1.K2... names the
// label "K1.K2...", and anything else is absent.
func (o object) field(fieldpath []string) (string, bool) {
	if len(fieldpath) == 1 {
		value, ok := o.Fields[fieldpath[0]]
		return value, ok
	}
	if len(fieldpath) > 1 && fieldpath[0] == "labels" {
		value, ok := o.Labels[strings.Join(fieldpath[1:], ".")]
		return value, ok
	}
	return "", false
}

func answer(req request) response {
	filter, err := filters.ParseAll(req.Filters...)
	if err != nil {
		return response{Error: err.Error(), Matches: []bool{}}
	}
	matches := make([]bool, len(req.Objects))
	for i, o := range req.Objects {
		matches[i] = filter.Match(filters.AdapterFunc(o.field))
	}
	return response{Matches: matches}
}

func main() {
	// A pattern that does not compile is logged on every match; the answer
	// (no match) is what the test compares.
	logrus.SetOutput(io.Discard)
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 0, 1<<16), 16<<20)
	out := json.NewEncoder(os.Stdout)
	out.SetEscapeHTML(false)
	for in.Scan() {
		var req request
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			os.Stderr.WriteString("filters: bad request: " + err.Error() + "\n")
			os.Exit(2)
		}
		if err := out.Encode(answer(req)); err != nil {
			os.Exit(1)
		}
	}
}
