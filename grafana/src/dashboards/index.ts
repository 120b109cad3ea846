import { AUTH_SECURITY, buildAuthSecurity } from './authSecurity';
import { buildOrdersFactory, ORDERS_FACTORY } from './ordersFactory';
import { DashboardIdentity, JsonObject } from './panels';
import { buildServiceOverview, SERVICE_OVERVIEW } from './serviceOverview';
import { buildSystem, SYSTEM } from './system';

export interface DashboardOutput {
  identity: DashboardIdentity;
  /** Path relative to the repository root. */
  file: string;
  build: () => JsonObject;
}

export const DASHBOARDS: readonly DashboardOutput[] = [
  { identity: SERVICE_OVERVIEW, file: 'grafana/dashboards/service-overview.json', build: buildServiceOverview },
  { identity: ORDERS_FACTORY, file: 'grafana/dashboards/orders-factory.json', build: buildOrdersFactory },
  { identity: AUTH_SECURITY, file: 'grafana/dashboards/auth-security.json', build: buildAuthSecurity },
  { identity: SYSTEM, file: 'grafana/dashboards/system.json', build: buildSystem },
];

export { AUTH_SECURITY, AUTH_SECURITY_PANELS } from './authSecurity';
export { ORDERS_FACTORY, ORDERS_FACTORY_PANELS } from './ordersFactory';
export { SERVICE_OVERVIEW, SERVICE_OVERVIEW_PANELS } from './serviceOverview';
export { SYSTEM, SYSTEM_PANELS } from './system';
export { dashboardUrl } from './panels';
