// Package identitytest completes a browser sign-in against the simulated
// identity platform (package m365sim/identity) without a browser, so tests
// across tenantlink can drive the authorization code and admin-consent
// flows end to end over HTTP.
package identitytest

import (
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// maxPages bounds the walk: a real sign-in takes at most five pages.
const maxPages = 12

// SignIn opens authorizeURL (an authorize or admin-consent URL) with
// client's cookie jar and transport and clicks through the pages as a
// person would: enters user and clicks Next, enters password and clicks
// Sign in, answers Yes to "Stay signed in?", and clicks Accept on the
// consent page, ticking "Consent on behalf of your organization" when it is
// offered. On "Need admin approval" it clicks "Return to the application".
//
// It returns the URL the identity platform finally sends the browser to,
// without following it: the app's redirect URI with code and state, or with
// error and error_description. For response_mode=form_post the posted
// fields are returned as the URL's query. A page that cannot be passed (a
// wrong password, an error page) is an error quoting the page's message.
func SignIn(client *http.Client, authorizeURL, user, password string) (*url.URL, error) {
	if client == nil {
		client = http.DefaultClient
	}
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	resp, err := c.Get(authorizeURL)
	if err != nil {
		return nil, fmt.Errorf("identitytest: open authorize URL: %w", err)
	}
	for range maxPages {
		next, final, err := step(&c, resp, user, password)
		if err != nil || final != nil {
			return final, err
		}
		resp = next
	}
	return nil, errors.New("identitytest: sign-in did not finish within the page limit")
}

// step reads one response: a redirect ends the walk, a page is filled in
// and submitted.
func step(c *http.Client, resp *http.Response, user, password string) (*http.Response, *url.URL, error) {
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("identitytest: read %s: %w", resp.Request.URL, err)
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		loc, err := resp.Location()
		if err != nil {
			return nil, nil, fmt.Errorf("identitytest: redirect without location: %w", err)
		}
		return nil, loc, nil
	}
	page := string(body)
	f, ok := parseForm(page)
	if !ok {
		return nil, nil, fmt.Errorf("identitytest: %s answered %d without a form: %s", resp.Request.URL, resp.StatusCode, pageMessage(page))
	}
	action, err := resp.Request.URL.Parse(f.action)
	if err != nil {
		return nil, nil, fmt.Errorf("identitytest: bad form action %q: %w", f.action, err)
	}
	if f.name == "hiddenform" {
		// form_post: the browser would post these fields to the app.
		u := *action
		u.RawQuery = f.values.Encode()
		return nil, &u, nil
	}
	if msg := alert(page); msg != "" {
		return nil, nil, fmt.Errorf("identitytest: sign-in refused: %s", msg)
	}
	vals := f.values
	click := "idSIButton9"
	switch {
	case f.hasInput("i0116"):
		vals.Set("loginfmt", user)
	case f.hasInput("i0118"):
		vals.Set("passwd", password)
	}
	for _, cb := range f.checkboxes {
		vals.Set(cb.name, cb.value)
	}
	b, ok := f.buttons[click]
	if !ok {
		if b, ok = f.buttons["idBtn_Back"]; !ok {
			return nil, nil, fmt.Errorf("identitytest: no button to click on page: %s", pageMessage(page))
		}
	}
	if b.name != "" {
		vals.Set(b.name, b.value)
	}
	next, err := c.PostForm(action.String(), vals)
	if err != nil {
		return nil, nil, fmt.Errorf("identitytest: submit %s: %w", action, err)
	}
	return next, nil, nil
}

type input struct{ name, value string }

type form struct {
	name, action string
	values       url.Values
	ids          map[string]bool
	checkboxes   []input
	buttons      map[string]input
}

func (f form) hasInput(id string) bool { return f.ids[id] }

var (
	formRe   = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	tagRe    = regexp.MustCompile(`(?is)<(input|button)\b([^>]*)>`)
	attrRe   = regexp.MustCompile(`(?is)([a-z_:-]+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?`)
	alertRe  = regexp.MustCompile(`(?is)<div\b[^>]*role="alert"[^>]*>(.*?)</div>\s*(?:</div>)?`)
	stripRe  = regexp.MustCompile(`(?s)<[^>]*>`)
	spacesRe = regexp.MustCompile(`\s+`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRe.FindAllStringSubmatch(s, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2] + a[3] + a[4])
	}
	return m
}

// parseForm reads the first form of one of the simulator's pages. It is a
// small reader for those pages, not a general HTML parser.
func parseForm(page string) (form, bool) {
	m := formRe.FindStringSubmatch(page)
	if m == nil {
		return form{}, false
	}
	fa := attrs(m[1])
	f := form{name: fa["name"], action: fa["action"], values: url.Values{}, ids: map[string]bool{}, buttons: map[string]input{}}
	for _, t := range tagRe.FindAllStringSubmatch(m[2], -1) {
		a := attrs(t[2])
		if a["id"] != "" {
			f.ids[a["id"]] = true
		}
		if strings.EqualFold(t[1], "button") || a["type"] == "submit" {
			f.buttons[a["id"]] = input{name: a["name"], value: a["value"]}
			continue
		}
		switch strings.ToLower(a["type"]) {
		case "checkbox":
			if v := a["value"]; a["name"] != "" {
				if v == "" {
					v = "on"
				}
				f.checkboxes = append(f.checkboxes, input{name: a["name"], value: v})
			}
		default:
			if a["name"] != "" {
				f.values.Set(a["name"], a["value"])
			}
		}
	}
	return f, true
}

func alert(page string) string {
	m := alertRe.FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return text(m[1])
}

func pageMessage(page string) string {
	if a := alert(page); a != "" {
		return a
	}
	return text(page)
}

func text(s string) string {
	s = stripRe.ReplaceAllString(s, " ")
	return strings.TrimSpace(spacesRe.ReplaceAllString(html.UnescapeString(s), " "))
}
