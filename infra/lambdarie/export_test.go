package lambdarie

// PID is the emulator's process id, which is also its process group's.
func (e *Emulator) PID() int { return e.cmd.Process.Pid }
