package identity

import (
	"bytes"
	"html/template"
	"net/http"
	"sort"
)

// The sign-in pages keep Microsoft's element ids and field names (i0116
// loginfmt, i0118 passwd, idSIButton9, idBtn_Back) because browser
// automation written against the real pages looks for them. They need no
// JavaScript: every step is a plain form post.
var pages = template.Must(template.New("layout").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font-family:"Segoe UI",system-ui,sans-serif;background:#f2f2f2;margin:0}
main{background:#fff;max-width:440px;margin:48px auto;padding:44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
h1{font-size:24px;font-weight:600;margin:0 0 16px}
label{display:block;margin:12px 0 4px}
input[type=email],input[type=password],input[type=text]{width:100%;box-sizing:border-box;padding:6px 0;border:0;border-bottom:1px solid #666;font-size:15px}
.error{color:#e81123;margin:8px 0}
.code{color:#666;font-size:12px}
.buttons{margin-top:24px;display:flex;gap:8px;justify-content:flex-end}
button{min-width:108px;padding:6px 12px;font-size:15px;border:0;cursor:pointer}
button.primary{background:#0067b8;color:#fff}
button.secondary{background:#ccc;color:#000}
ul{padding-left:20px}
</style>
</head>
<body>
<main>
{{template "body" .}}
</main>
</body>
</html>
{{define "error-block"}}{{if .Error}}<div id="{{.ErrorID}}" class="error" role="alert">{{.Error}}{{if .ErrorCode}}<div class="code">{{.ErrorCode}}</div>{{end}}</div>{{end}}{{end}}
`))

func mustBody(name, body string) *template.Template {
	t := template.Must(pages.Clone())
	template.Must(t.New("body").Parse(body))
	return t
}

var pageTemplates = map[string]*template.Template{
	"username": mustBody("username", `<form method="post" action="{{.Action}}" novalidate>
<h1 id="loginHeader">Sign in</h1>
<p>to continue to {{.AppName}}</p>
<label for="i0116">Email, phone, or Skype</label>
<input type="email" id="i0116" name="loginfmt" value="{{.LoginHint}}" autocomplete="username" aria-describedby="usernameError" aria-required="true">
{{template "error-block" .}}
<input type="hidden" name="ctx" value="{{.Ctx}}">
<div class="buttons"><button type="submit" id="idSIButton9" class="primary" name="action" value="next">Next</button></div>
</form>`),
	"password": mustBody("password", `<form method="post" action="{{.Action}}" novalidate>
<p id="displayName">{{.UserName}}</p>
<h1 id="loginHeader">Enter password</h1>
<label for="i0118">Password</label>
<input type="password" id="i0118" name="passwd" autocomplete="current-password" aria-describedby="passwordError" aria-required="true">
{{template "error-block" .}}
<input type="hidden" name="ctx" value="{{.Ctx}}">
<div class="buttons">
<button type="submit" id="idBtn_Back" class="secondary" name="action" value="back">Back</button>
<button type="submit" id="idSIButton9" class="primary" name="action" value="signin">Sign in</button>
</div>
</form>`),
	"kmsi": mustBody("kmsi", `<form method="post" action="{{.Action}}">
<p>{{.UserName}}</p>
<h1>Stay signed in?</h1>
<p>Do this to reduce the number of times you are asked to sign in.</p>
<input type="hidden" name="ctx" value="{{.Ctx}}">
<div class="buttons">
<button type="submit" id="idBtn_Back" class="secondary" name="action" value="no">No</button>
<button type="submit" id="idSIButton9" class="primary" name="action" value="yes">Yes</button>
</div>
</form>`),
	"consent": mustBody("consent", `<form method="post" action="{{.Action}}">
<p>{{.UserName}}</p>
<h1>Permissions requested</h1>
{{if .AdminConsent}}<p>Accept for your organization</p>{{end}}
<p><strong>{{.AppName}}</strong></p>
<p id="permissionsLabel">This app would like to:</p>
<ul aria-labelledby="permissionsLabel">
{{range .Permissions}}<li data-scope="{{.Name}}">{{.Description}}{{if .AdminOnly}} <span class="code">(Admin consent required)</span>{{end}}</li>
{{end}}</ul>
{{if .OrgCheckbox}}<p><input type="checkbox" id="cbConsentOnBehalf" name="ConsentOnBehalf" value="true"> <label for="cbConsentOnBehalf" style="display:inline">Consent on behalf of your organization</label></p>{{end}}
<p>Accepting these permissions means that you allow this app to use your data as specified in their terms of service and privacy statement.{{if .AdminConsent}} If you accept, this app will get access to the specified resources for all users in your organization.{{end}}</p>
<input type="hidden" name="ctx" value="{{.Ctx}}">
<div class="buttons">
<button type="submit" id="idBtn_Back" class="secondary" name="action" value="cancel">Cancel</button>
<button type="submit" id="idSIButton9" class="primary" name="action" value="accept">Accept</button>
</div>
</form>`),
	"approval": mustBody("approval", `<form method="post" action="{{.Action}}">
<p>{{.UserName}}</p>
<h1>Need admin approval</h1>
<p><strong>{{.AppName}}</strong></p>
<p>{{.AppName}} needs permission to access resources in your organization that only an admin can grant. Please ask an admin to grant permission to this app before you can use it.</p>
<input type="hidden" name="ctx" value="{{.Ctx}}">
<p><button type="submit" id="adminAccountLink" class="secondary" name="action" value="switch">Have an admin account? Sign in with that account</button></p>
<div class="buttons"><button type="submit" id="idBtn_Back" class="primary" name="action" value="return">Return to the application without granting consent</button></div>
</form>`),
	"error": mustBody("error", `<h1>Sign in</h1>
<p>Sorry, but we're having trouble signing you in.</p>
<div id="errorMessage" role="alert"><p id="errorCode"><strong>{{.Code}}</strong>: {{.Message}}</p></div>
<dl class="code">
<dt>Request Id</dt><dd>{{.TraceID}}</dd>
<dt>Correlation Id</dt><dd>{{.CorrelationID}}</dd>
<dt>Timestamp</dt><dd>{{.Timestamp}}</dd>
</dl>`),
	"formpost": mustBody("formpost", `<h1>Working...</h1>
<form method="post" name="hiddenform" action="{{.Action}}">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<noscript><p>Script is disabled. Click Submit to continue.</p></noscript>
<div class="buttons"><button type="submit" id="idSIButton9" class="primary">Submit</button></div>
</form>`),
}

// page is data for one template.
type page interface {
	template() string
	title() string
}

type permissionLine struct {
	Name, Description string
	AdminOnly         bool
}

// flowPage is the data for every sign-in and consent step.
type flowPage struct {
	Page                                                        string
	Ctx, Action, AppName, LoginHint, UserName, Error, ErrorCode string
	AdminConsent, OrgCheckbox                                   bool
	Permissions                                                 []permissionLine
}

func (d flowPage) template() string { return d.Page }
func (d flowPage) title() string {
	switch d.Page {
	case "password":
		return "Enter password"
	case "kmsi":
		return "Stay signed in?"
	case "consent":
		return "Permissions requested"
	case "approval":
		return "Need admin approval"
	}
	return "Sign in to your account"
}

// ErrorID names the element that carries the page error, as Microsoft's
// pages do, so that field descriptions can point at it.
func (d flowPage) ErrorID() string {
	if d.Page == "password" {
		return "passwordError"
	}
	return "usernameError"
}

// Title is the document title.
func (d flowPage) Title() string { return d.title() }

type errorPageData struct {
	Code, Message, TraceID, CorrelationID, Timestamp string
}

func (errorPageData) template() string { return "error" }
func (errorPageData) title() string    { return "Sign in to your account" }

// Title is the document title.
func (d errorPageData) Title() string { return d.title() }

type field struct{ Name, Value string }

type formPostPage struct {
	Action string
	Fields []field
}

func (formPostPage) template() string { return "formpost" }
func (formPostPage) title() string    { return "Working..." }

// Title is the document title.
func (d formPostPage) Title() string { return d.title() }

func sortFields(fs []field) {
	sort.Slice(fs, func(i, j int) bool { return fs[i].Name < fs[j].Name })
}

func renderPage(w http.ResponseWriter, status int, d page) {
	var buf bytes.Buffer
	if err := pageTemplates[d.template()].Execute(&buf, d); err != nil {
		http.Error(w, "identity: render page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store, no-cache")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action *")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes()) // a failed write means the browser left
}
