package faultstore

import (
	"context"
	"errors"
	"strconv"
)

// Method names a store method a Fault can fail: the method's own name.
type Method string

// The methods a Store wraps, by port.
const (
	// Any, as a Fault's Method, matches a call of every method.
	Any Method = ""

	// sso.Store
	MethodOrganization          Method = "Organization"
	MethodOrganizationBySSOName Method = "OrganizationBySSOName"
	MethodSaveOrganization      Method = "SaveOrganization"
	MethodMember                Method = "Member"
	MethodSaveMember            Method = "SaveMember"
	MethodSaveRequest           Method = "SaveRequest"
	MethodConsumeRequest        Method = "ConsumeRequest"
	MethodUseAssertion          Method = "UseAssertion"
	// sso.RequestConsumer
	MethodConsumeMatchingRequest Method = "ConsumeMatchingRequest"
	// sso.AdminStore
	MethodCreateOrganization Method = "CreateOrganization"
	MethodUpdateOrganization Method = "UpdateOrganization"
	MethodCreateMember       Method = "CreateMember"
	MethodUpdateMember       Method = "UpdateMember"
	MethodDeleteMember       Method = "DeleteMember"
	MethodMemberByUserID     Method = "MemberByUserID"
	MethodMembers            Method = "Members"
	// sso.BatchCleaner
	MethodCleanupBatch Method = "CleanupBatch"
	// session.Store
	MethodCreateSession         Method = "CreateSession"
	MethodSession               Method = "Session"
	MethodDeleteSession         Method = "DeleteSession"
	MethodDeleteOrgSessions     Method = "DeleteOrgSessions"
	MethodDeleteExpiredSessions Method = "DeleteExpiredSessions"
	// session.Lister
	MethodListSessions Method = "ListSessions"
	MethodEndSessions  Method = "EndSessions"
)

// Methods lists every method a Store wraps, in the order of the constants.
func Methods() []Method {
	return []Method{
		MethodOrganization, MethodOrganizationBySSOName, MethodSaveOrganization, MethodMember, MethodSaveMember,
		MethodSaveRequest, MethodConsumeRequest, MethodUseAssertion, MethodConsumeMatchingRequest,
		MethodCreateOrganization, MethodUpdateOrganization, MethodCreateMember, MethodUpdateMember,
		MethodDeleteMember, MethodMemberByUserID, MethodMembers, MethodCleanupBatch,
		MethodCreateSession, MethodSession, MethodDeleteSession, MethodDeleteOrgSessions,
		MethodDeleteExpiredSessions, MethodListSessions, MethodEndSessions,
	}
}

// returnsPointer lists the methods whose value is a pointer, which
// NilResult can make nil.
var returnsPointer = map[Method]bool{
	MethodOrganization: true, MethodOrganizationBySSOName: true, MethodMember: true,
	MethodConsumeRequest: true, MethodConsumeMatchingRequest: true, MethodCreateMember: true,
	MethodMemberByUserID: true, MethodSession: true,
}

// Mode is how a faulty call fails.
type Mode int

// The modes of a Fault.
const (
	// FailBefore fails the call before the inner store sees it: an *Error,
	// nothing done.
	FailBefore Mode = iota + 1
	// LostAck runs the inner call, which commits, then returns an *Error in
	// place of its answer, as when the connection drops after COMMIT.
	LostAck
	// Cancelled fails the call before the inner store sees it with an
	// *Error wrapping context.Canceled, as a driver reports a cancelled
	// statement.
	Cancelled
	// Slow blocks until the call's context is done and returns an *Error
	// wrapping the context's error (context.DeadlineExceeded for a timeout);
	// the inner store is not called. A context that is never done blocks
	// forever: a Service always bounds its store calls (Config.StoreTimeout).
	Slow
	// NilResult runs the inner call and drops its value: a method that
	// returns a pointer returns nil, with the inner call's error, so nil and
	// no error when the inner call succeeded. For a method that returns no
	// pointer (an error, a count or a list) it changes nothing; see
	// Applies.
	NilResult
)

// Modes lists every Mode.
func Modes() []Mode { return []Mode{FailBefore, LostAck, Cancelled, Slow, NilResult} }

// String names the mode, e.g. "lost-ack".
func (m Mode) String() string {
	switch m {
	case FailBefore:
		return "fail-before"
	case LostAck:
		return "lost-ack"
	case Cancelled:
		return "cancelled"
	case Slow:
		return "slow"
	case NilResult:
		return "nil-result"
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// Applies reports whether mode changes what method returns: every mode
// does, except NilResult for a method that returns no pointer (its nil
// list or zero count would be a valid answer, not a broken contract).
func Applies(method Method, mode Mode) bool {
	switch mode {
	case FailBefore, LostAck, Cancelled, Slow:
		return true
	case NilResult:
		return returnsPointer[method]
	}
	return false
}

// Fault says which call fails and how.
type Fault struct {
	// Method is the method whose call fails; Any matches every method.
	Method Method
	// N picks the call: the Nth call of Method counted from Inject (1 = the
	// next one), after which the fault is spent. 0 fails every call of
	// Method until Clear or Reset.
	N int
	// Mode is how the call fails.
	Mode Mode
	// Err is the cause FailBefore and LostAck report (nil = a plain
	// "injected failure"). An Err that is one of the ports' answers
	// (sso.ErrNotFound, …) makes the fault an answer rather than a failure.
	Err error
}

// ErrInjected is wrapped by every error a Fault makes.
var ErrInjected = errors.New("faultstore: injected failure")

// Error is the error of a faulty call. It wraps ErrInjected and its cause:
// Fault.Err, context.Canceled (Cancelled) or the context's error (Slow).
type Error struct {
	Method Method // the method that failed
	Call   int    // which call of Method since New or Reset, from 1
	Mode   Mode
	Err    error // the cause; nil for a plain injected failure
}

// Error implements error.
func (e *Error) Error() string {
	s := "faultstore: injected " + e.Mode.String() + " fault in " + string(e.Method) + " call " + strconv.Itoa(e.Call)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns ErrInjected and the cause, for errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInjected}
	}
	return []error{ErrInjected, e.Err}
}

// errNilContext is the cause of a Slow fault in a call without a context,
// which returns at once.
var errNilContext = errors.New("nil context")

// Hit records a fault that fired.
type Hit struct {
	Method Method
	Call   int // which call of Method since New or Reset, from 1
	Mode   Mode
}

// armed is an injected fault and how many matching calls it has seen.
type armed struct {
	Fault
	seen int
}

// matches reports whether a call of m counts toward the fault.
func (a *armed) matches(m Method) bool { return a.Method == Any || a.Method == m }

// errFor builds the error the fault returns for call n of m.
func (a *armed) errFor(ctx context.Context, m Method, n int) error {
	e := &Error{Method: m, Call: n, Mode: a.Mode, Err: a.Err}
	switch a.Mode {
	case Cancelled:
		e.Err = context.Canceled
	case Slow:
		e.Err = errNilContext
		if ctx != nil {
			e.Err = ctx.Err()
		}
	}
	return e
}
