package mesh

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// AccessFileVariable names the access table's file; unset, it is found by walking up from the working
// directory to the first proto/access.json (make up runs the processes from the repository root).
const AccessFileVariable = "FTGO_ACCESS_FILE"

// accessFileRel is where the access table lives in the repository, beside the contracts.
var accessFileRel = filepath.Join("proto", "access.json")

// Special callers of the access table (proto/access.json's $comment).
const (
	// AnyCaller admits any certificate of the mesh CA.
	AnyCaller = "*"
	// GatewayAsAdmin admits the gateway only when it forwards a signed end-user claim of an admin.
	GatewayAsAdmin = "gateway as admin"
)

// methodKey is a key of the table, as access.ts checks it.
var methodKey = regexp.MustCompile(`^[\w.]+/(\w+|\*)$`)

// Access is the access table: for each full method name ("pkg.Service/Method") or service ("pkg.Service/*"),
// who may call it. A method's own entry wins over its service's; no entry denies.
type Access struct {
	// File is where the table was read from, for messages.
	File    string
	methods map[string][]string
}

// FindAccessFile is FTGO_ACCESS_FILE when set, else the first proto/access.json found walking up from dir.
func FindAccessFile(lookup func(string) (string, bool), dir string) (string, error) {
	if v, _ := lookup(AccessFileVariable); strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v), nil
	}
	for d := dir; ; {
		candidate := filepath.Join(d, accessFileRel)
		if _, err := os.Stat(candidate); err == nil {
			return candidate, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("the secure mode needs the access table: no %s in %s or any directory above it; set %s to its path", accessFileRel, dir, AccessFileVariable)
		}
		d = parent
	}
}

// LoadAccess finds (FindAccessFile) and reads the access table.
func LoadAccess(lookup func(string) (string, bool), dir string) (*Access, error) {
	path, err := FindAccessFile(lookup, dir)
	if err != nil {
		return nil, err
	}
	return ReadAccess(path)
}

// ReadAccess reads the access table from path.
func ReadAccess(path string) (*Access, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("the secure mode needs the access table, and %s does not exist (%s, or proto/access.json above the working directory)", path, AccessFileVariable)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the access table: %w", err)
	}
	var doc struct {
		Methods map[string][]string `json:"methods"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("the access table %s is not valid JSON of the form {\"methods\": {\"pkg.Service/Method\": [\"role\", ...]}}: %w", path, err)
	}
	if doc.Methods == nil {
		return nil, fmt.Errorf("the access table %s has no \"methods\" object", path)
	}
	for key, callers := range doc.Methods {
		if !methodKey.MatchString(key) {
			return nil, fmt.Errorf("the access table %s: %q is not \"pkg.Service/Method\" nor \"pkg.Service/*\"", path, key)
		}
		if len(callers) == 0 || slices.Contains(callers, "") {
			return nil, fmt.Errorf("the access table %s: the callers of %q must be a list of names", path, key)
		}
	}
	return &Access{File: path, methods: doc.Methods}, nil
}

// Callers is the entry that governs fullMethod ("/pkg.Service/Method", as gRPC names it, or without the
// leading slash): the method's own, else its service's; ok is false when there is none.
func (a *Access) Callers(fullMethod string) (callers []string, ok bool) {
	key := strings.TrimPrefix(fullMethod, "/")
	if callers, ok := a.methods[key]; ok {
		return callers, true
	}
	service, _, _ := strings.Cut(key, "/")
	callers, ok = a.methods[service+"/*"]
	return callers, ok
}

// Roles are the certificate roles (OU) scripts/pki.sh issues; any other word of the table is a certificate
// name (CN), as packages/platform/src/grpc/access.ts reads it.
var Roles = []string{"service", "gateway", "courier", "admin", "learner", "broker"}

// Allows reports whether caller may call fullMethod, as access.ts's mayCall decides: an entry admits it when it
// is "*", the caller's role, the caller's name (never a learner's: a learner names its own certificate), or
// "gateway as admin" and the caller is the gateway forwarding an admin's verified end-user claim. A method
// without an entry, or a certificate that names no CN and OU, is denied.
func (a *Access) Allows(fullMethod string, caller Caller) bool {
	if caller.Peer.Name == "" || caller.Peer.Role == "" {
		return false
	}
	callers, ok := a.Callers(fullMethod)
	if !ok {
		return false
	}
	for _, entry := range callers {
		if admits(entry, caller) {
			return true
		}
	}
	return false
}

func admits(entry string, caller Caller) bool {
	switch {
	case entry == AnyCaller:
		return true
	case entry == GatewayAsAdmin:
		return caller.Peer.Role == RoleGateway && caller.EndUser != nil && caller.EndUser.Role == EndUserAdmin
	case slices.Contains(Roles, entry):
		return caller.Peer.Role == entry
	}
	return caller.Peer.Name == entry && caller.Peer.Role != RoleLearner
}
