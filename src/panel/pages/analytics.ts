// Analytics: placeholder replaced below once the stats API shape is wired.
import { Hono } from "hono";
import type { PanelEnv } from "../context";

export const analyticsPages = new Hono<PanelEnv>();
