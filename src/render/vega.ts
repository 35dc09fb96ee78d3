// Vega-Lite specs to static SVG in Node: vega-lite compiles, vega's headless View (renderer 'none') renders, no
// browser and no script in the output. Imported lazily by the HTML renderer only (vega is large).
import * as vega from 'vega';
import * as vl from 'vega-lite';

/** Renders one Vega-Lite spec to an SVG string (data must be inline). Throws if the spec does not compile. */
export async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  // Warnings go nowhere: a spec problem shows in the drawing, and stderr is the user's, not vega's.
  const compiled = vl.compile(spec as unknown as vl.TopLevelSpec, { logger: vega.logger(vega.None) }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.None });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
