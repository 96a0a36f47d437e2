// Command aslgraph draws a state machine's ASL as a mermaid flowchart and keeps the README's
// copy current, so the diagram cannot drift from the workflow:
//
//	go run ./infra/aslgraph -asl statemachines/certification.asl.json -readme README.md
//
// rewrites the block between the README's pipeline-diagram markers; the package's test fails
// when the README holds anything else.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"regexp"
	"slices"
	"strings"
)

// Markers delimit the generated diagram in the README.
const (
	startMarker = "<!-- pipeline-diagram:start -->"
	endMarker   = "<!-- pipeline-diagram:end -->"
)

type machine struct {
	StartAt string           `json:"StartAt"`
	States  map[string]state `json:"States"`
}

type state struct {
	Type     string    `json:"Type"`
	Resource string    `json:"Resource"`
	Next     string    `json:"Next"`
	Default  string    `json:"Default"`
	Choices  []rule    `json:"Choices"`
	Catch    []catcher `json:"Catch"`
	Branches []machine `json:"Branches"`
	Params   struct {
		Payload map[string]any `json:"Payload"`
	} `json:"Parameters"`
}

type rule struct {
	Variable string  `json:"Variable"`
	Next     string  `json:"Next"`
	And      []rule  `json:"And"`
	Or       []rule  `json:"Or"`
	Not      *rule   `json:"Not"`
	Str      *string `json:"StringEquals"`
	Bool     *bool   `json:"BooleanEquals"`
}

type catcher struct {
	ErrorEquals []string `json:"ErrorEquals"`
	Next        string   `json:"Next"`
}

func main() {
	asl := flag.String("asl", "statemachines/certification.asl.json", "the ASL file")
	readme := flag.String("readme", "README.md", "the README whose diagram block is rewritten")
	flag.Parse()
	raw, err := os.ReadFile(*asl)
	if err != nil {
		log.Fatal(err)
	}
	diagram, err := Mermaid(raw)
	if err != nil {
		log.Fatal(err)
	}
	text, err := os.ReadFile(*readme)
	if err != nil {
		log.Fatal(err)
	}
	out, err := Replace(string(text), diagram)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*readme, []byte(out), 0o644); err != nil {
		log.Fatal(err)
	}
}

// Replace puts diagram between the markers of readme.
func Replace(readme, diagram string) (string, error) {
	i, j := strings.Index(readme, startMarker), strings.Index(readme, endMarker)
	if i < 0 || j < i {
		return "", fmt.Errorf("the README has no %s … %s block", startMarker, endMarker)
	}
	return readme[:i+len(startMarker)] + "\n```mermaid\n" + diagram + "```\n" + readme[j:], nil
}

// Mermaid draws the ASL as a flowchart: callbacks as stadiums, Lambda record steps as
// rectangles, Choice states as diamonds, Parallel states as subgraphs of their branches, Catch
// edges dotted.
func Mermaid(asl []byte) (string, error) {
	var m machine
	if err := json.Unmarshal(asl, &m); err != nil {
		return "", fmt.Errorf("parse ASL: %w", err)
	}
	var b strings.Builder
	b.WriteString("flowchart TD\n")
	b.WriteString("  start((start)) --> " + id(m.StartAt) + "\n")
	draw(&b, m, "  ")
	return b.String(), nil
}

var unsafe = regexp.MustCompile(`[^A-Za-z0-9_]`)

func id(name string) string { return unsafe.ReplaceAllString(name, "_") }

func draw(b *strings.Builder, m machine, indent string) {
	names := make([]string, 0, len(m.States))
	for n := range m.States {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		s := m.States[n]
		switch s.Type {
		case "Parallel":
			fmt.Fprintf(b, "%ssubgraph %s [\"%s (parallel)\"]\n", indent, id(n), n)
			for i, br := range s.Branches {
				fmt.Fprintf(b, "%s  subgraph %s_%d [\" \"]\n", indent, id(n), i+1)
				fmt.Fprintf(b, "%s    direction TB\n", indent)
				draw(b, br, indent+"    ")
				fmt.Fprintf(b, "%s  end\n", indent)
			}
			fmt.Fprintf(b, "%send\n", indent)
		case "Choice":
			fmt.Fprintf(b, "%s%s{\"%s\"}\n", indent, id(n), n)
		case "Succeed":
			fmt.Fprintf(b, "%s%s((\"%s\"))\n", indent, id(n), n)
		case "Fail":
			fmt.Fprintf(b, "%s%s[[\"%s (fail)\"]]\n", indent, id(n), n)
		case "Task":
			if strings.HasSuffix(s.Resource, ".waitForTaskToken") {
				fmt.Fprintf(b, "%s%s([\"%s: waits for %v\"])\n", indent, id(n), n, s.Params.Payload["step"])
			} else {
				fmt.Fprintf(b, "%s%s[\"%s\"]\n", indent, id(n), n)
			}
		default:
			fmt.Fprintf(b, "%s%s[/\"%s\"/]\n", indent, id(n), n)
		}
	}
	for _, n := range names {
		s := m.States[n]
		if s.Next != "" {
			fmt.Fprintf(b, "%s%s --> %s\n", indent, id(n), id(s.Next))
		}
		for _, r := range s.Choices {
			fmt.Fprintf(b, "%s%s -->|\"%s\"| %s\n", indent, id(n), label(r), id(r.Next))
		}
		if s.Default != "" {
			fmt.Fprintf(b, "%s%s -->|otherwise| %s\n", indent, id(n), id(s.Default))
		}
		for _, c := range s.Catch {
			fmt.Fprintf(b, "%s%s -.->|\"%s\"| %s\n", indent, id(n), strings.Join(c.ErrorEquals, ", "), id(c.Next))
		}
	}
}

// label is a Choice rule in a few words: "action = invite_inspection", "all of (…)".
func label(r rule) string {
	join := func(word string, rs []rule) string {
		parts := make([]string, len(rs))
		for i, x := range rs {
			parts[i] = label(x)
		}
		return strings.Join(parts, " "+word+" ")
	}
	switch {
	case len(r.And) > 0:
		return join("and", r.And)
	case len(r.Or) > 0:
		return "(" + join("or", r.Or) + ")"
	case r.Not != nil:
		return "not " + label(*r.Not)
	}
	v := r.Variable[strings.LastIndex(r.Variable, ".")+1:]
	switch {
	case r.Str != nil:
		return v + " = " + *r.Str
	case r.Bool != nil && *r.Bool:
		return v
	case r.Bool != nil:
		return "not " + v
	}
	return v
}
