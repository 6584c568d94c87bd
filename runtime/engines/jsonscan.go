package engines

import (
	"encoding/json"
	"errors"
)

var errBadJSON = errors.New("malformed JSON")

// topLevelStrings returns the values of the string members named keys at
// the top level of the JSON object data (out[i] for keys[i]; "" when
// absent or not a string). It walks the object once without building it:
// docker's config.v2.json is a few kB of which `ls` wants two short
// strings, and encoding/json's full decode of it cost most of the time of
// naming 50 containers. Members nested deeper are skipped, never matched.
// The string values themselves are decoded by encoding/json, so escapes
// mean what they mean there. Invalid JSON may be an error or give values
// the same as encoding/json would for the valid prefix; it never panics.
func topLevelStrings(data []byte, keys ...string) ([]string, error) {
	out := make([]string, len(keys))
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, errBadJSON
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return out, nil
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return nil, errBadJSON
		}
		kEnd, err := skipString(data, i)
		if err != nil {
			return nil, err
		}
		key := data[i:kEnd]
		i = skipSpace(data, kEnd)
		if i >= len(data) || data[i] != ':' {
			return nil, errBadJSON
		}
		i = skipSpace(data, i+1)
		vEnd, err := skipValue(data, i)
		if err != nil {
			return nil, err
		}
		for k, want := range keys {
			if !keyIs(key, want) {
				continue
			}
			// The last member of a name wins, as in encoding/json.
			out[k] = ""
			if data[i] == '"' {
				if err := json.Unmarshal(data[i:vEnd], &out[k]); err != nil {
					return nil, err
				}
			}
		}
		i = skipSpace(data, vEnd)
		if i >= len(data) {
			return nil, errBadJSON
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return out, nil
		default:
			return nil, errBadJSON
		}
	}
}

// keyIs compares a quoted key as it stands in the JSON with want, exactly
// (as a decode into a map does); a key with escapes is decoded first.
func keyIs(quoted []byte, want string) bool {
	raw := quoted[1 : len(quoted)-1]
	for _, c := range raw {
		if c == '\\' {
			var s string
			return json.Unmarshal(quoted, &s) == nil && s == want
		}
	}
	return string(raw) == want
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just after the string starting at data[i]
// ('"').
func skipString(data []byte, i int) (int, error) {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1, nil
		}
	}
	return 0, errBadJSON
}

// skipValue returns the index just after the value starting at data[i].
func skipValue(data []byte, i int) (int, error) {
	if i >= len(data) {
		return 0, errBadJSON
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for ; i < len(data); i++ {
			switch data[i] {
			case '"':
				end, err := skipString(data, i)
				if err != nil {
					return 0, err
				}
				i = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
		}
		return 0, errBadJSON
	}
	// A number, true, false or null: up to the next delimiter.
	start := i
	for i < len(data) {
		switch data[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			if i == start {
				return 0, errBadJSON
			}
			return i, nil
		}
		i++
	}
	return 0, errBadJSON
}
