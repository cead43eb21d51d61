package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"strings"
)

var (
	colBG     = color.RGBA{255, 255, 255, 255}
	colText   = color.RGBA{20, 20, 20, 255}
	colGrid   = color.RGBA{215, 215, 215, 255}
	colRef    = color.RGBA{200, 30, 30, 255}
	colServer = map[string]color.RGBA{
		"ours":       {30, 110, 200, 255},
		"node":       {240, 150, 40, 255},
		"raw":        {130, 130, 130, 255},
		"ours-again": {120, 180, 240, 255},
	}
)

// chartRow is one headline figure: each server's advantage over
// node-uws (> 1 is better than node-uws, whichever way the metric goes).
type chartRow struct {
	label string
	adv   map[string]float64
}

func (r *report) chartRows() []chartRow {
	var rows []chartRow
	for _, sc := range r.scenarios {
		for _, mt := range sc.Metrics {
			if !mt.Headline {
				continue
			}
			ref := r.value(sc.Name, "node-uws", mt.Key)
			row := chartRow{label: sc.Name + ": " + strings.ReplaceAll(mt.Key, "_", " "), adv: map[string]float64{}}
			for _, s := range r.Servers {
				if s == "node-uws" {
					continue
				}
				v := r.value(sc.Name, s, mt.Key)
				a := math.NaN()
				switch {
				case math.IsNaN(v) || math.IsNaN(ref):
				case mt.Higher && ref > 0:
					a = v / ref
				case !mt.Higher && v > 0:
					a = ref / v
				}
				row.adv[s] = a
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// chart draws the headline figures as bars on a log scale around node-uws
// (the 1× line): a bar to the right is better than socket.io on
// uWebSockets.js, to the left worse.
func (r *report) chart() ([]byte, error) {
	rows := r.chartRows()
	var servers []string
	for _, s := range r.Servers {
		if s != "node-uws" {
			servers = append(servers, s)
		}
	}
	const (
		width   = 1500
		left    = 560 // plot starts here
		right   = 1400
		top     = 150
		barH    = 12
		lim     = 5.0 // log2 range on each side: 1/32× … 32×
		scaleTx = 2
	)
	rowH := len(servers)*(barH+3) + 16
	height := top + len(rows)*rowH + 40
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), &image.Uniform{colBG}, image.Point{}, draw.Src)
	xOf := func(adv float64) int {
		l := math.Max(-lim, math.Min(lim, math.Log2(adv)))
		return left + int((l+lim)/(2*lim)*float64(right-left))
	}
	drawText(img, 20, 16, 3, "dynamicio vs socket.io on uWebSockets.js (= 1x)", colText)
	drawText(img, 20, 50, 2, fmt.Sprintf("right of the red line: better than node-uws. medians of %d runs, %s, loadavg %s", r.Machine.Reps, r.Machine.Mode, r.Machine.LoadStart), colText)
	x := 20
	for _, s := range servers {
		fillRect(img, x, 84, 24, 14, colServer[s])
		x = drawText(img, x+32, 84, 2, s, colText) + 30
	}
	// Grid: powers of two.
	for l := -lim; l <= lim; l++ {
		gx := xOf(math.Exp2(l))
		c := colGrid
		if l == 0 {
			c = colRef
		}
		fillRect(img, gx, top-10, 1, height-top-20, c)
		lbl := fmt.Sprintf("%gx", math.Exp2(l))
		if l < 0 {
			lbl = fmt.Sprintf("1/%gx", math.Exp2(-l))
		}
		drawText(img, gx-textWidth(lbl, 1)/2, top-24, 1, lbl, colText)
	}
	for i, row := range rows {
		y := top + i*rowH
		drawText(img, 20, y+rowH/2-10, 2, truncate(row.label, 44), colText)
		for j, s := range servers {
			by := y + j*(barH+3)
			a := row.adv[s]
			c := colServer[s]
			x0 := xOf(1)
			if math.IsNaN(a) {
				drawText(img, x0+6, by+2, 1, "n/a", colText)
				continue
			}
			x1 := xOf(a)
			if x1 < x0 {
				fillRect(img, x1, by, x0-x1, barH, c)
			} else {
				fillRect(img, x0, by, max(x1-x0, 1), barH, c)
			}
			lbl := fmt.Sprintf("%.2fx", a)
			if x1 >= x0 {
				drawText(img, min(x1+6, width-textWidth(lbl, 1)-4), by+3, 1, lbl, colText)
			} else {
				drawText(img, max(x1-textWidth(lbl, 1)-6, left-60), by+3, 1, lbl, colText)
			}
		}
		fillRect(img, 20, y+rowH-4, right-20, 1, colGrid)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func fillRect(img *image.RGBA, x, y, w, h int, c color.Color) {
	draw.Draw(img, image.Rect(x, y, x+w, y+h), &image.Uniform{c}, image.Point{}, draw.Src)
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "."
	}
	return s
}
