package practicesim

import "errors"

var (
	// ErrInvalidConfig is wrapped by New when the Config cannot be used.
	ErrInvalidConfig = errors.New("practicesim: invalid config")
	// ErrInvalidOption is wrapped by New when an option's value cannot be
	// used.
	ErrInvalidOption = errors.New("practicesim: invalid option")
	// ErrInvalidBehaviour is wrapped when a policy returns a behaviour that
	// contradicts itself or names an unknown reason or result. The message
	// it was chosen for is dead-lettered: retrying cannot change the policy.
	ErrInvalidBehaviour = errors.New("practicesim: invalid behaviour")
	// ErrInvalidRegistration is wrapped by Register when the request cannot
	// make a valid registration event.
	ErrInvalidRegistration = errors.New("practicesim: invalid registration")
	// ErrRunning is returned by Run when the practice is already running.
	ErrRunning = errors.New("practicesim: already running")
)
