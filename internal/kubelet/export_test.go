package kubelet

// RenewLease is renewLease, for the tests.
var RenewLease = renewLease
