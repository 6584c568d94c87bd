// Package namespace names the kinds of Linux namespaces (Type, Set) and
// reads them: the inode behind each /proc/PID/ns link (one raw readlinkat
// and one link parser serve every caller), the parent PID namespace and
// the owning user namespace (NS_GET_PARENT, NS_GET_USERNS), and how two
// sets differ.
package namespace
