// Package signals sends signals that cannot hit a recycled PID (a pidfd
// checked against the start time a scan saw), names and parses them as
// kill(1) does, and reads what an init blocks, catches or waits in, which
// decides how a container is stopped (runtime/launch/stop.go).
package signals
