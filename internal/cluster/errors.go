package cluster

import (
	"errors"
	"net"
	"os"
)

// unwrapSyscall turns "listen tcp 127.0.0.1:17443: bind: address already in
// use" into "address already in use": the caller already names the address.
func unwrapSyscall(err error) error {
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		var sysErr *os.SyscallError
		if errors.As(opErr.Err, &sysErr) {
			return sysErr.Err
		}
		return opErr.Err
	}
	return err
}

// pathCause drops the path from an *os.PathError: the caller names it.
func pathCause(err error) error {
	var pathErr *os.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Err
	}
	return err
}
