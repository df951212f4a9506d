package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// apiClient is the CLI's client of a running tenantlink's JSON API.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

type apiError struct {
	Status  int
	Code    string
	Message string
	Body    []byte // the whole answer, for partial results
}

func (e *apiError) Error() string { return fmt.Sprintf("%s (HTTP %d %s)", e.Message, e.Status, e.Code) }

func (c *apiClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("tenantlink at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 400 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(b, &e) != nil || e.Error.Message == "" {
			return &apiError{Status: resp.StatusCode, Message: strings.TrimSpace(string(b)), Body: b}
		}
		return &apiError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message, Body: b}
	}
	if out != nil {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		return dec.Decode(out)
	}
	return nil
}

type opDecl struct {
	Name    string                        `json:"name"`
	Label   string                        `json:"label"`
	Write   bool                          `json:"write"`
	Inputs  []struct{ Name, Type string } `json:"inputs"`
	Outputs []struct{ Name string }       `json:"outputs"`
}

func newOpCmd() *cobra.Command {
	var server, token, output string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "op DATASOURCE OPERATION [input=value | input:=json]...",
		Short: "Run a data source operation through a running tenantlink",
		Long: `Run an operation (UserList, FindUsers, AddUserToGroup, …) of a data source, named by id
or exact display name, through tenantlink's API with an API token (TENANTLINK_TOKEN).
Inputs are input=value (text; repeat an input to pass a list) or input:=JSON.
With only DATASOURCE, lists the data source's operations and their inputs.`,
		Example: `  tenantlink op "Contoso" FindUsers query="O'Brien" field=surname
  tenantlink op "Contoso" AddUserToGroup user=adele.vance@contoso.com user=alex.wilber@contoso.com group="Sales - EMEA"
  tenantlink op "Contoso" UserList maxRows:=10 --output json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			if token == "" {
				return errors.New("an API token is required: --token or TENANTLINK_TOKEN (create one with `tenantlink admin create-token`)")
			}
			if output != "table" && output != "json" {
				return fmt.Errorf("--output must be table or json, not %q", output)
			}
			inputs, err := parseInputs(args[min(2, len(args)):])
			if err != nil {
				return err
			}
			c := &apiClient{base: strings.TrimRight(server, "/"), token: token, http: &http.Client{Timeout: timeout}}
			ctx := cmd.Context()
			dsID, err := c.resolveDataSource(ctx, args[0])
			if err != nil {
				return err
			}
			var decls struct {
				Value []opDecl `json:"value"`
			}
			if err := c.do(ctx, "GET", "/api/v1/datasources/"+url.PathEscape(dsID)+"/operations", nil, &decls); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if len(args) == 1 {
				return printOperations(out, decls.Value)
			}
			var decl *opDecl
			for i := range decls.Value {
				if strings.EqualFold(decls.Value[i].Name, args[1]) || strings.EqualFold(decls.Value[i].Label, args[1]) {
					decl = &decls.Value[i]
				}
			}
			if decl == nil {
				return fmt.Errorf("no operation %q; run `tenantlink op %q` to list them", args[1], args[0])
			}
			var res struct {
				Items []map[string]any `json:"items"`
			}
			runErr := c.do(ctx, "POST", "/api/v1/datasources/"+url.PathEscape(dsID)+"/operations/"+url.PathEscape(decl.Name), map[string]any{"inputs": inputs}, &res)
			var ae *apiError
			if errors.As(runErr, &ae) {
				// A partial result still lists every item's outcome.
				dec := json.NewDecoder(bytes.NewReader(ae.Body))
				dec.UseNumber()
				if dec.Decode(&res) != nil || len(res.Items) == 0 {
					return runErr
				}
			} else if runErr != nil {
				return runErr
			}
			if output == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(map[string]any{"items": res.Items}); err != nil {
					return err
				}
				return runErr
			}
			var cols []string
			for _, o := range decl.Outputs {
				cols = append(cols, o.Name)
			}
			if err := printTable(out, cols, res.Items); err != nil {
				return err
			}
			return runErr
		},
	}
	f := cmd.Flags()
	f.StringVar(&server, "server", "http://127.0.0.1:8080", "tenantlink's URL")
	f.StringVar(&token, "token", "", "API token (prefer TENANTLINK_TOKEN: flags are visible to other users)")
	f.StringVarP(&output, "output", "o", "table", "table or json")
	f.DurationVar(&timeout, "timeout", 10*time.Minute, "give up after this long")
	return cmd
}

// parseInputs turns input=value / input:=json arguments into the inputs
// object; a repeated input becomes a list.
func parseInputs(args []string) (map[string]any, error) {
	in := map[string]any{}
	for _, a := range args {
		var key string
		var val any
		if k, raw, ok := strings.Cut(a, ":="); ok && !strings.Contains(k, "=") {
			dec := json.NewDecoder(strings.NewReader(raw))
			dec.UseNumber()
			if err := dec.Decode(&val); err != nil {
				return nil, fmt.Errorf("input %s: %q is not JSON: %w", k, raw, err)
			}
			key = k
		} else if k, v, ok := strings.Cut(a, "="); ok {
			key, val = k, v
		} else {
			return nil, fmt.Errorf("input %q: write input=value or input:=json", a)
		}
		if key == "" {
			return nil, fmt.Errorf("input %q has no name", a)
		}
		if prev, ok := in[key]; ok {
			list, isList := prev.([]any)
			if !isList {
				list = []any{prev}
			}
			in[key] = append(list, val)
			continue
		}
		in[key] = val
	}
	return in, nil
}

func (c *apiClient) resolveDataSource(ctx context.Context, ref string) (string, error) {
	var list struct {
		Value []struct{ ID, Name string } `json:"value"`
	}
	if err := c.do(ctx, "GET", "/api/v1/datasources?search="+url.QueryEscape(ref), nil, &list); err != nil {
		return "", err
	}
	for _, ds := range list.Value {
		if ds.ID == ref || strings.EqualFold(ds.Name, ref) {
			return ds.ID, nil
		}
	}
	var direct struct{ ID string }
	if err := c.do(ctx, "GET", "/api/v1/datasources/"+url.PathEscape(ref), nil, &direct); err == nil && direct.ID != "" {
		return direct.ID, nil
	}
	return "", fmt.Errorf("no data source named %q that you may use", ref)
}

func printOperations(w io.Writer, ops []opDecl) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "OPERATION\tKIND\tINPUTS")
	for _, o := range ops {
		kind := "read"
		if o.Write {
			kind = "write"
		}
		var in []string
		for _, i := range o.Inputs {
			in = append(in, i.Name)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", o.Name, kind, strings.Join(in, ", "))
	}
	return tw.Flush()
}

func printTable(w io.Writer, cols []string, items []map[string]any) error {
	seen := map[string]bool{}
	for _, c := range cols {
		seen[c] = true
	}
	var extra []string
	for _, it := range items {
		for k := range it {
			if !seen[k] {
				seen[k] = true
				extra = append(extra, k)
			}
		}
	}
	sort.Strings(extra)
	cols = append(cols, extra...)
	// Only the columns that carry a value somewhere: wide records stay readable.
	var used []string
	for _, c := range cols {
		for _, it := range items {
			if v, ok := it[c]; ok && v != nil && v != "" {
				used = append(used, c)
				break
			}
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(used, "\t")))
	for _, it := range items {
		row := make([]string, len(used))
		for i, c := range used {
			row[i] = cell(it[c])
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "(%d item(s))\n", len(items))
	return err
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return strings.NewReplacer("\t", " ", "\n", " ").Replace(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = cell(e)
		}
		return strings.Join(parts, ", ")
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}
