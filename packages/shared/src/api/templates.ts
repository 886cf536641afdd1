// Templates in the `video` function: `GET video/templates`, `GET/PUT/DELETE
// video/templates/{slug}`, and specs that name one (`{"template", "variables", ...}`).
import type { Hono } from "hono";
import { z } from "zod";
import { asUser } from "../db.ts";
import { AppError } from "../errors.ts";
import { conditionalJson, type Env, parseBody, validate } from "../http.ts";
import type { JwtClaims } from "../jwt.ts";
import { type MovieRequest, movieRequest } from "../movie.ts";
import { checkTemplate, renderTemplate, resolveValues, sampleValues, type TemplateVariables, templateVariables, variableValues } from "../templates.ts";

type TemplateRow = {
  slug: string; user_id: string | null; name: string; description: string; variables: TemplateVariables;
  spec: Record<string, unknown>; updated_at: string;
};

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be 1 to 63 of a-z, 0-9 and - (not first)");

/** A spec naming a template: the template's scenes with these variables; projectName, config
 * and effects given here replace the template's; `scenes` given here (the MovieFlow document's
 * example) are the movie's scenes, each over the template's scene of the same id. */
export const templateRequest = z.strictObject({
  template: slug,
  variables: variableValues.default({}),
  projectName: z.string().optional(),
  scenes: z.array(z.record(z.string(), z.unknown())).min(1).optional(),
  config: z.record(z.string(), z.unknown()).optional(),
  effects: z.record(z.string(), z.unknown()).optional(),
});

export const templateBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  description: z.string().max(1000).default(""),
  variables: templateVariables.default({}),
  spec: z.record(z.string(), z.unknown()),
});

function templateView(t: TemplateRow) {
  return { slug: t.slug, name: t.name, description: t.description, builtIn: t.user_id === null, variables: t.variables, spec: t.spec, updatedAt: t.updated_at };
}

async function loadTemplate(claims: JwtClaims, name: string): Promise<TemplateRow> {
  // The caller's own template of that slug, else the built-in one.
  const [row] = await asUser(claims, (sql) => sql<TemplateRow[]>`
    select * from public.movie_templates where slug = ${name} order by user_id nulls last limit 1`);
  if (!row) throw new AppError("NOT_FOUND", `No template "${name}": GET video/templates lists them`);
  return row;
}

/** A movie request from a body: a spec, or a template with its variables rendered. */
export async function resolveSpec(claims: JwtClaims, json: unknown): Promise<MovieRequest> {
  if (!json || typeof json !== "object" || !("template" in json)) return validate(movieRequest, json);
  const req = validate(templateRequest, json);
  const t = await loadTemplate(claims, req.template);
  const rendered = req.scenes ? renderWithScenes(t, req.scenes, req.variables) : renderTemplate(t.spec, t.variables, req.variables);
  const merged = { ...rendered, ...(req.projectName ? { projectName: req.projectName } : {}),
    ...(req.config ? { config: { ...(rendered.config as object), ...req.config } } : {}),
    ...(req.effects ? { effects: { ...(rendered.effects as object), ...req.effects } } : {}) };
  return validate(movieRequest, merged);
}

type Scene = Record<string, unknown>;

/** The given scenes over the template's: each given scene is its template scene of the same id
 * with the given fields replacing the template's (`audio` field by field); the template's other
 * scenes are left out, and only the variables the result uses are needed. */
function renderWithScenes(t: TemplateRow, given: Scene[], values: Record<string, string | string[]>) {
  const own = new Map((t.spec.scenes as Scene[] ?? []).filter((s) => s.forEach === undefined).map((s) => [s.id, s]));
  const scenes = given.map((g) => {
    const base = own.get(g.id) ?? {};
    const audio = base.audio && g.audio && typeof g.audio === "object" ? { audio: { ...(base.audio as Scene), ...(g.audio as Scene) } } : {};
    return { ...base, ...g, ...audio };
  });
  resolveValues(t.variables, { ...sampleValues(t.variables), ...values }); // unknown and mistyped values are refused
  const spec = { ...t.spec, scenes };
  const used = JSON.stringify(spec);
  const variables = Object.fromEntries(Object.entries(t.variables).filter(([name]) => new RegExp(`\\{\\{\\s*${name}\\s*\\}\\}`).test(used)));
  return renderTemplate(spec, variables, Object.fromEntries(Object.entries(values).filter(([name]) => name in variables)));
}

export function templateRoutes(app: Hono<Env>) {
  app.get("/templates", async (c) => {
    const rows = await asUser(c.get("claims"), (sql) => sql<TemplateRow[]>`
      select * from public.movie_templates order by user_id nulls first, slug`);
    return await conditionalJson(c, rows.map((r) => [r.slug, r.updated_at]), false, async () => ({ templates: rows.map(templateView) }));
  });

  app.get("/templates/:slug", async (c) => {
    const t = await loadTemplate(c.get("claims"), validate(slug, c.req.param("slug")));
    return await conditionalJson(c, [t.slug, t.user_id, t.updated_at], false, async () => templateView(t));
  });

  // Saved only if it renders into a valid movie with sample values.
  app.put("/templates/:slug", async (c) => {
    const name = validate(slug, c.req.param("slug"));
    const body = await parseBody(c, templateBody);
    checkTemplate(body.spec, body.variables);
    const sample = movieRequest.safeParse(renderTemplate(body.spec, body.variables, sampleValues(body.variables)));
    if (!sample.success) {
      const first = sample.error.issues[0];
      throw new AppError("INVALID_REQUEST", `spec: rendered with sample values it is not a valid movie: ${first.path.join(".")}: ${first.message}`,
        sample.error.issues.map((i) => ({ path: `spec.${i.path.join(".")}`, message: i.message })));
    }
    const [row] = await asUser(c.get("claims"), (sql) => sql<TemplateRow[]>`
      select * from app.save_template(${name}, ${body.name}, ${body.description}, ${sql.json(body.variables)}, ${sql.json(body.spec as never)})`);
    return c.json(templateView(row));
  });

  app.delete("/templates/:slug", async (c) => {
    const name = validate(slug, c.req.param("slug"));
    await asUser(c.get("claims"), (sql) => sql`select from app.delete_template(${name})`);
    return c.json({ deleted: name });
  });
}
