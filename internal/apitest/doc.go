// Package apitest holds tenantlink's end-to-end API tests (issue 3): the
// data source status machine driven through the HTTP API, the access
// matrix over every route, bad input on every endpoint that takes a body
// or parameters, and secrets at rest and in logs. Every test runs the real
// application (package app) over loopback against the Microsoft 365
// simulator and a real store: SQLite in a temporary folder and, where the
// store matters, PostgreSQL (TENANTLINK_TEST_POSTGRES). The package has no
// code of its own; it exists so these cross-package tests live in one place
// owned by no single package.
package apitest
