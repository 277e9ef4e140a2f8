package translate_test

import "testing"

func checkFRRK8sRules(t testing.TB, r interface{}) {}
