import { z } from 'zod';

/** Identifiers travel as opaque, non-empty strings; tenants and segments are named by the upstream platform. */
export const Id = z.string().trim().min(1).max(200);
export const TenantId = Id.describe('Tenant identifier (customer of the platform)');
export const RunId = z.uuid().describe('Export run identifier');
export const IsoDateTime = z.iso.datetime({ offset: true });
