/** One connector of a Dropwizard configuration, where it was found and what it serves. */
export interface DropwizardConnector {
  /** Its path in the YAML, for messages: `server.applicationConnectors[0]`. */
  where: string;
  /** `application` (applicationConnectors, or the simple server's one connector) or `admin` (adminConnectors). */
  role: 'application' | 'admin';
  /** Its `type`: `http` (Dropwizard's default), `https`, `h2`, `h2c`. */
  type: string;
  /** Its keys, as the YAML gives them. */
  fields: Record<string, unknown>;
}

/** The connectors of a configuration, and what the server section says besides them. */
export interface DropwizardServer {
  connectors: DropwizardConnector[];
  /** `default` or `simple`. */
  serverType: string;
  /** The simple server's context paths, when it is one: the application and admin share its connector. */
  contextPaths?: { application: string; admin: string };
}

/** A configuration that cannot be read as Dropwizard's: one line saying where and why. */
export class DropwizardConfigError extends Error {}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The connectors of a parsed Dropwizard configuration: the default server's
 * `applicationConnectors` and `adminConnectors`, or the simple server's
 * `connector`. A missing list is Dropwizard's default (plain HTTP on 8080
 * and 8081), so it holds no https connector.
 */
export function dropwizardConnectors(config: unknown): DropwizardServer {
  if (!isRecord(config)) throw new DropwizardConfigError('not a Dropwizard configuration: expected a YAML mapping at the top');
  const server = config.server;
  if (server === undefined || server === null) throw new DropwizardConfigError('no server section (Dropwizard then serves plain HTTP on 8080 and 8081: no https connector)');
  if (!isRecord(server)) throw new DropwizardConfigError('server: expected a mapping');
  const serverType = server.type === undefined ? 'default' : scalarText(server.type);
  const connector = (value: unknown, where: string, role: DropwizardConnector['role']): DropwizardConnector => {
    if (!isRecord(value)) throw new DropwizardConfigError(`${where}: expected a mapping of connector settings`);
    return { where, role, type: value.type === undefined ? 'http' : scalarText(value.type), fields: value };
  };
  if (serverType === 'simple') {
    if (server.applicationConnectors !== undefined || server.adminConnectors !== undefined) {
      throw new DropwizardConfigError('server: a simple server has one connector (server.connector), not applicationConnectors/adminConnectors');
    }
    const connectors = server.connector === undefined ? [] : [connector(server.connector, 'server.connector', 'application')];
    const path = (value: unknown, fallback: string) => (value === undefined || value === null ? fallback : scalarText(value));
    return { serverType, connectors, contextPaths: { application: path(server.applicationContextPath, '/application'), admin: path(server.adminContextPath, '/admin') } };
  }
  if (serverType !== 'default') throw new DropwizardConfigError(`server.type: "${serverType}" is not a Dropwizard server type (default or simple)`);
  if (server.connector !== undefined) throw new DropwizardConfigError('server.connector belongs to a simple server (type: simple); the default server has applicationConnectors and adminConnectors');
  const list = (name: 'applicationConnectors' | 'adminConnectors', role: DropwizardConnector['role']): DropwizardConnector[] => {
    const value = server[name];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) throw new DropwizardConfigError(`server.${name}: expected a list of connectors`);
    return value.map((item, i) => connector(item, `server.${name}[${i}]`, role));
  };
  return { serverType, connectors: [...list('applicationConnectors', 'application'), ...list('adminConnectors', 'admin')] };
}

/** A YAML scalar as text; a mapping or list where a name belongs is shown as JSON, not as [object Object]. */
function scalarText(value: unknown): string {
  return typeof value === 'string' ? value : String(JSON.stringify(value));
}
