package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"time"
)

// writeDataset writes profiles 0..size-1 as NDJSON, the input of
// `profiled import`.
func writeDataset(path string, genesys *template, size int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	line := make([]byte, 0, 1024)
	for n := range uint64(size) {
		line = genesys.renderWithID(line[:0], n)
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// importDataset loads the NDJSON file into a fresh data file through the
// bulk path, before any server holds the file, and returns how long it took.
func importDataset(bin, config, data, ndjson string, batch int, logPath string) (time.Duration, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return 0, err
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "import", "-config", config, "-data", data, "-in", ndjson, "-batch", fmt.Sprint(batch))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%s import: %w\n%s", bin, err, tail(logPath, 20))
	}
	return time.Since(start), nil
}
