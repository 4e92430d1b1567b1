package store

// SetAfterSwapHook makes Restore call hook right after the restored copy
// is renamed into place, where a crash would leave the files as they are,
// until the test ends.
func SetAfterSwapHook(t interface{ Cleanup(func()) }, hook func()) {
	old := afterSwapHook
	afterSwapHook = hook
	t.Cleanup(func() { afterSwapHook = old })
}
