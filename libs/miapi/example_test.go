package miapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/nhsengland/gp2gp/libs/miapi"
)

// An ERRORS event for a negative acknowledgement: its body and its id,
// which every re-send keeps.
func Example() {
	e := miapi.NewErrorEvent(miapi.Envelope{
		ConversationID:            "4345-986959-4930-684038",
		RegistrationEventDateTime: time.Date(2020, 2, 8, 8, 30, 26, 250e6, time.UTC),
		ReportingSystemSupplier:   "YGJ",
		ReportingPracticeODSCode:  "B86041",
		RequestingPracticeODSCode: "A12345",
		SendingPracticeODSCode:    "B86041",
	}, "", miapi.ErrorDetail{Code: "99", Description: "unexpected error", FailurePoint: miapi.FailureEHRResponse})
	if err := e.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	body, _ := json.Marshal(e)
	fmt.Println(e.Type.Path())
	fmt.Println(string(body))
	fmt.Println(e.ID())
	// Output:
	// /errors
	// {"conversationId":"4345-986959-4930-684038","registrationEventDateTime":"2020-02-08T08:30:26Z","reportingSystemSupplier":"YGJ","reportingPracticeOdsCode":"B86041","requestingPracticeOdsCode":"A12345","sendingPracticeOdsCode":"B86041","payload":{"error":{"errorCode":"99","errorDescription":"unexpected error","failurePoint":"EHR_RESPONSE"}}}
	// f4c78b1d-0ce9-3df1-83c3-8cc2a865b330
}

func ExampleEvent_Validate() {
	e := miapi.NewTransferCompatibilityEvent(miapi.Envelope{ConversationID: "c"}, miapi.TransferCompatibilityStatus{})
	fmt.Println(e.Validate())
	// Output:
	// miapi: invalid TRANSFER_COMPATIBILITY_STATUSES event: reportingSystemSupplier: must not be empty; registrationEventDateTime: must not be empty; reportingPracticeOdsCode: must not be empty; requestingPracticeOdsCode: must not be empty; sendingPracticeOdsCode: must not be empty; payload.transferCompatibilityStatus.reason: must not be empty when transferCompatible is false
}

func ExampleUnmarshal() {
	e, err := miapi.Unmarshal(miapi.TypeDegrades, []byte(`{"reportingSystemSupplier":"YGJ",
		"payload":{"degrades":[{"type":"RECORD_ENTRY","reason":"CODE","coding":[{"code":"1676331000000110","system":"http://snomed.info/sct"}]}]}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e.Payload.Degrades[0].Type, e.Payload.Degrades[0].Coding[0].Code)

	_, err = miapi.Unmarshal(miapi.TypeDegrades, []byte(`{"reportingSystemSupplier":"YGJ","conversationId":"c"}`))
	fmt.Println(err)
	// Output:
	// RECORD_ENTRY 1676331000000110
	// miapi: invalid event body: DEGRADES: json: unknown field "conversationId"
}

func ExampleClient_Post() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Header.Get("apikey") != "secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer api.Close()

	c, err := miapi.NewClient(api.URL+"/gp-registrations-mi", miapi.WithAPIKey("secret"))
	if err != nil {
		fmt.Println(err)
		return
	}
	e := miapi.NewEHRRequestEvent(miapi.Envelope{
		ConversationID:            "4345-986959-4930-684038",
		RegistrationEventDateTime: time.Date(2020, 2, 8, 8, 30, 25, 0, time.UTC),
		ReportingSystemSupplier:   "YGJ",
		ReportingPracticeODSCode:  "A12345",
		RequestingPracticeODSCode: "A12345",
		SendingPracticeODSCode:    "B86041",
	})
	_, err = c.Post(context.Background(), e)
	var se *miapi.StatusError
	if errors.As(err, &se) {
		fmt.Println(se.StatusCode, miapi.IsPermanent(err), se.RetryAfter)
	}
	// Output:
	// 503 false 30s
}
