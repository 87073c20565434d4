import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { SharePricePoint } from '../api/types';
import { formatDecimal, formatEth, tryParseWei, toDecimalString } from '../lib/money';

// Chart coordinates are the only place figures become JS numbers: a plotted pixel needs no
// precision; every figure shown as text is formatted from the exact strings.
function series(points: SharePricePoint[]) {
  const xs: number[] = [];
  const price: number[] = [];
  const assets: number[] = [];
  for (const p of points) {
    const wei = tryParseWei(p.total_assets_wei);
    if (wei === undefined) continue;
    xs.push(p.timestamp);
    price.push(Number(p.share_price_eth));
    assets.push(Number(toDecimalString(wei, 18)));
  }
  return [xs, price, assets] as [number[], number[], number[]];
}

export function PriceChart({ points }: { points: SharePricePoint[] }) {
  const el = useRef<HTMLDivElement>(null);
  const data = useMemo(() => series(points), [points]);

  useEffect(() => {
    const host = el.current;
    if (!host || data[0].length < 2) return;
    const width = () => Math.max(280, host.clientWidth);
    const plot = new uPlot(
      {
        width: width(),
        height: 260,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, price: { auto: true }, assets: { auto: true } },
        axes: [
          { stroke: '#475467', grid: { stroke: '#eaecf0' } },
          // Six decimals: the share price moves in the fourth to sixth (integer labels all read "1").
          {
            scale: 'price',
            stroke: '#1d4ed8',
            grid: { stroke: '#eaecf0' },
            size: 80,
            values: (_u, splits) => splits.map((v) => v.toFixed(6)),
          },
          { scale: 'assets', side: 1, stroke: '#047857', grid: { show: false }, size: 70 },
        ],
        series: [
          {},
          { label: 'Share price (ETH)', scale: 'price', stroke: '#1d4ed8', width: 2, value: (_u, v) => (v == null ? '—' : v.toFixed(6)) },
          { label: 'Total assets (ETH)', scale: 'assets', stroke: '#047857', width: 2, dash: [6, 4], value: (_u, v) => (v == null ? '—' : v.toFixed(4)) },
        ],
      },
      data,
      host,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: 260 }));
    resize.observe(host);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [data]);

  if (points.length < 2) {
    return <p className="muted">Not enough history yet to draw a chart ({points.length} point{points.length === 1 ? '' : 's'}).</p>;
  }
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const summary = `Share price from ${formatDecimal(first.share_price_eth, 6)} to ${formatDecimal(last.share_price_eth, 6)} ETH; total assets from ${formatEth(tryParseWei(first.total_assets_wei) ?? 0n)} to ${formatEth(tryParseWei(last.total_assets_wei) ?? 0n)} ETH, over ${points.length} points.`;
  return (
    <figure className="chart">
      <div ref={el} role="img" aria-label={summary} />
      <figcaption className="muted">{summary}</figcaption>
    </figure>
  );
}
