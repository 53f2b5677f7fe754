package awsclient

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"go.temporal.io/sdk/temporal"
)

// TypeAccessDenied is the application error type of an AWS call the
// credentials may not make. It is never retried: the IAM policy must change.
const TypeAccessDenied = "AccessDenied"

// Kind is what an AWS error means for whoever called.
type Kind int

// Kinds of AWS errors.
const (
	// Transient errors (5xx, connection trouble) may pass on a later try.
	Transient Kind = iota
	// Throttled calls exhausted the SDK's own retries; a later try may pass.
	Throttled
	// AccessDenied: the credentials lack the permission, or are invalid or expired.
	AccessDenied
	// NotFound: the named resource does not exist.
	NotFound
	// Rejected: the service refused the request (validation, conflict, limit).
	Rejected
	// Canceled: the caller's context ended.
	Canceled
)

func (k Kind) String() string {
	switch k {
	case Throttled:
		return "throttled"
	case AccessDenied:
		return "access denied"
	case NotFound:
		return "not found"
	case Rejected:
		return "rejected"
	case Canceled:
		return "canceled"
	}
	return "transient"
}

var accessDeniedCodes = map[string]bool{
	"AccessDenied": true, "AccessDeniedException": true, "AccessDeniedFault": true,
	"UnauthorizedOperation": true, "UnauthorizedException": true, "AuthorizationError": true,
	"AuthFailure": true, "InvalidClientTokenId": true, "UnrecognizedClientException": true,
	"ExpiredToken": true, "ExpiredTokenException": true, "SignatureDoesNotMatch": true,
	"InvalidSignatureException": true, "MissingAuthenticationToken": true, "InvalidAccessKeyId": true,
	"IncompleteSignature": true, "OptInRequired": true,
}

var throttleCodes = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "ThrottledException": true,
	"RequestThrottledException": true, "TooManyRequestsException": true, "RequestLimitExceeded": true,
	"RequestThrottled": true, "SlowDown": true, "LimitExceededException": true,
	"PriorRequestNotComplete": true, "BandwidthLimitExceeded": true,
}

var notFoundCodes = map[string]bool{
	"NotFound": true, "NotFoundException": true, "ResourceNotFoundException": true, "ResourceNotFound": true,
	"NoSuchBucket": true, "NoSuchKey": true, "NoSuchDistribution": true, "NoSuchInvalidation": true,
	"NoSuchOrigin": true, "DBInstanceNotFound": true, "DBInstanceNotFoundFault": true,
	"DBSnapshotNotFound": true, "DBSnapshotNotFoundFault": true, "ServiceNotFoundException": true,
	"ClusterNotFoundException": true, "ResourceNotFoundFault": true,
}

// Classify says what err from an AWS call means.
func Classify(err error) Kind {
	if err == nil {
		return Transient
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return Canceled
	}
	code, status := Code(err), statusOf(err)
	switch {
	case accessDeniedCodes[code], code == "" && status == 403:
		return AccessDenied
	case throttleCodes[code], status == 429:
		return Throttled
	case notFoundCodes[code], code == "" && status == 404:
		return NotFound
	case strings.Contains(err.Error(), "failed to retrieve credentials"):
		return AccessDenied
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && status < 500 && (status >= 400 || ae.ErrorFault() == smithy.FaultClient) {
		return Rejected
	}
	return Transient
}

// Code returns the AWS error code in err, or "".
func Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func statusOf(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// Action returns the IAM action of the AWS call that failed, e.g.
// "ecs:UpdateService", or "" when err is not from an AWS call.
func Action(err error) string {
	var oe *smithy.OperationError
	if !errors.As(err, &oe) {
		return ""
	}
	return IAMPrefix(oe.Service()) + ":" + oe.Operation()
}

// IAMPrefix maps an SDK service ID ("ECS", "Secrets Manager") to its IAM
// action prefix ("ecs", "secretsmanager").
func IAMPrefix(serviceID string) string {
	switch serviceID {
	case "CloudWatch":
		return "cloudwatch"
	}
	return strings.ToLower(strings.ReplaceAll(serviceID, " ", ""))
}

// Describe explains err in one line that names the action and the resource,
// e.g. `ecs:UpdateService on arn:aws:ecs:...:service/prod/portal: access denied (AccessDeniedException: ...)`.
func Describe(err error, resource string) string {
	action := Action(err)
	if action == "" {
		action = "AWS call"
	}
	if resource != "" {
		action += " on " + resource
	}
	msg := ""
	var ae smithy.APIError
	if errors.As(err, &ae) {
		msg = ae.ErrorCode()
		if m := ae.ErrorMessage(); m != "" && m != msg {
			msg += ": " + m
		}
	} else {
		msg = err.Error()
	}
	return fmt.Sprintf("%s: %s (%s)", action, Classify(err), msg)
}

// ActivityError turns err from an AWS call on resource into the error an
// activity returns. Access denied (and missing or expired credentials) is a
// non-retryable TypeAccessDenied error; a missing resource or a refused
// request is non-retryable of type rejectType; throttling that outlasted the
// SDK's retries, 5xx answers and connection errors stay retryable, so
// Temporal backs off and tries again. Messages name the IAM action and the
// resource and never carry request payloads.
func ActivityError(err error, resource, rejectType string) error {
	if err == nil {
		return nil
	}
	msg := Describe(err, resource)
	switch Classify(err) {
	case AccessDenied:
		return temporal.NewNonRetryableApplicationError(msg, TypeAccessDenied, err)
	case NotFound, Rejected:
		return temporal.NewNonRetryableApplicationError(msg, rejectType, err)
	case Canceled:
		return fmt.Errorf("%s: %w", msg, err)
	}
	return temporal.NewApplicationError(msg, "AWSTransient", err)
}
