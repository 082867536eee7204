// Package web is the mireporter's HTTP API and MI dashboard: the monthly
// national and practice figures of GP2GP-MI.md §2 as JSON and CSV, one
// transfer's classification, and a self-contained dashboard page that reads
// the same API.
//
// Every route answers GET and HEAD; any other method is 405 with an Allow
// header. Errors are JSON {"error": "…"}: 400 for a malformed month or sort
// or an ODS code that is not 1 to 16 letters and digits, 404 for an unknown
// practice, transfer or path, 500 when the [Source] fails (the cause is
// logged, the response says only that it failed).
//
//	GET /api/v1/months                      {"months": ["2026-11", "2026-10"]}, most recent first
//	GET /api/v1/national?month=YYYY-MM      {"generatedOn", "metrics": [mi.NationalMonth]}
//	GET /api/v1/national.csv?month=YYYY-MM  the same as one CSV row (see NationalCSVHeader)
//	GET /api/v1/practices?month=YYYY-MM     {"generatedOn", "practices": [mi.PracticeMetrics], "sicbls": [mi.SICBL]}
//	GET /api/v1/practices.csv?month=YYYY-MM the §2.4 dashboard columns (see PracticesCSVHeader)
//	GET /api/v1/practices/{ods}             {"generatedOn", "practice": mi.PracticeMetrics}, all its months
//	GET /api/v1/transfers/{conversationId}  the mi.Transfer
//	GET /                                   the dashboard (also /dashboard/, its scripts and styles)
//
// The month of the national and practice routes defaults to the latest
// complete month (one that ended before the handler's clock's current
// month) that has transfers, else the latest month with transfers, else the
// current month. The practice list, JSON and CSV alike, is sorted by
// "Not integrated within 8 days" % descending (sort=integration, the
// default), or with sort=failures by technical failures % descending; a
// null percentage sorts last and ties go by practice ODS code.
package web
