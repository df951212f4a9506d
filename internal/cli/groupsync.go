package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// newGroupSyncCmd shows and changes a directory group's member sync
// settings through a running tenantlink, like the group's page does.
func newGroupSyncCmd() *cobra.Command {
	var server, token string
	var enabled, override bool
	var datasource, sourceGroup, missing, schedule string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "group-sync GROUP",
		Short: "Show or change a directory group's member sync settings (through a running tenantlink)",
		Long: `Shows a directory group's member sync settings and scheduled task; with flags, changes them.
GROUP is the group's id or exact name. Needs an Administrator's API token (TENANTLINK_TOKEN).
--schedule takes JSON ({"kind":"daily","time":"09:00","weekdaysOnly":true}) or a kind alone
(hourly, onDemand). --dry-run shows what a sync would change now, changing nothing.`,
		Example: `  tenantlink group-sync Staff --enabled --datasource Contoso --source-group "All Company" --missing disable
  tenantlink group-sync Staff --schedule '{"kind":"minutes","every":30}'
  tenantlink group-sync Staff --dry-run`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			if token == "" {
				return errors.New("an API token is required: --token or TENANTLINK_TOKEN (create one with `tenantlink admin create-token`)")
			}
			c := &apiClient{base: strings.TrimRight(server, "/"), token: token, http: &http.Client{Timeout: 10 * time.Minute}}
			ctx := cmd.Context()
			gid, err := c.resolveGroup(ctx, args[0])
			if err != nil {
				return err
			}
			path := "/api/v1/groups/" + url.PathEscape(gid) + "/sync"
			var view struct {
				Settings map[string]any `json:"settings"`
				Task     map[string]any `json:"task"`
			}
			if err := c.do(ctx, "GET", path, nil, &view); err != nil {
				return err
			}
			fl := cmd.Flags()
			changed := false
			// set copies a changed flag into the settings under its API key.
			set := func(flag, key string, v any) {
				if !fl.Changed(flag) {
					return
				}
				if view.Settings == nil {
					view.Settings = map[string]any{}
				}
				view.Settings[key] = v
				changed = true
			}
			set("enabled", "enabled", enabled)
			set("override", "override", override)
			set("source-group", "sourceGroup", sourceGroup)
			set("missing", "missingUsers", missing)
			if fl.Changed("datasource") {
				id, err := c.resolveDataSource(ctx, datasource)
				if err != nil {
					return err
				}
				set("datasource", "datasource", id)
			}
			if fl.Changed("schedule") {
				var sch any
				if strings.HasPrefix(strings.TrimSpace(schedule), "{") {
					if err := json.Unmarshal([]byte(schedule), &sch); err != nil {
						return fmt.Errorf("--schedule: not JSON: %w", err)
					}
				} else {
					sch = map[string]any{"kind": schedule}
				}
				set("schedule", "schedule", sch)
			}
			out := cmd.OutOrStdout()
			if changed {
				if err := c.do(ctx, "PUT", path, view.Settings, &view); err != nil {
					return err
				}
				fmt.Fprintln(out, "saved")
			}
			if err := printGroupSync(out, view.Settings, view.Task); err != nil {
				return err
			}
			if dryRun {
				var run map[string]any
				if err := c.do(ctx, "POST", path+"?dryRun=true", nil, &run); err != nil {
					return err
				}
				b, _ := json.MarshalIndent(map[string]any{"status": run["status"], "counts": run["counts"], "errors": run["errors"]}, "", "  ")
				fmt.Fprintf(out, "dry run: %s\n", b)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&server, "server", "http://127.0.0.1:8080", "tenantlink's URL")
	f.StringVar(&token, "token", "", "API token (prefer TENANTLINK_TOKEN)")
	f.BoolVar(&enabled, "enabled", false, "turn group member sync on (--enabled=false turns it off)")
	f.StringVar(&datasource, "datasource", "", "the Office 365 data source (id or name)")
	f.StringVar(&sourceGroup, "source-group", "", "the tenant's group (id or exact name), or * for all users")
	f.BoolVar(&override, "override", false, "members missing upstream leave the group")
	f.StringVar(&missing, "missing", "", "previously imported users missing on re-import: keep, disable or remove")
	f.StringVar(&schedule, "schedule", "", "when the sync runs (JSON, or hourly / onDemand)")
	f.BoolVar(&dryRun, "dry-run", false, "show what a sync would change now")
	return cmd
}

func printGroupSync(w io.Writer, s, task map[string]any) error {
	if s == nil {
		_, err := fmt.Fprintln(w, "group member sync: not set up")
		return err
	}
	b, err := json.MarshalIndent(map[string]any{"settings": s, "task": task}, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func (c *apiClient) resolveGroup(ctx context.Context, ref string) (string, error) {
	var list struct {
		Value []struct{ ID, Name string } `json:"value"`
	}
	if err := c.do(ctx, "GET", "/api/v1/groups", nil, &list); err != nil {
		return "", err
	}
	for _, g := range list.Value {
		if g.ID == ref || strings.EqualFold(g.Name, ref) {
			return g.ID, nil
		}
	}
	return "", fmt.Errorf("no directory group %q", ref)
}
