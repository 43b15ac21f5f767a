/**
 * Istio's Bookinfo sample as a fleet of sidecars: who runs where, what each service costs, how
 * often it fails. Names, labels and identities are those a Kubernetes install would give, so the
 * default config's dimensions come out as real values rather than "unknown".
 */

export interface Service {
  readonly name: string;
  readonly namespace: string;
  /** `<name>.<namespace>.svc.cluster.local` */
  readonly host: string;
  readonly port: number;
}

/** How a workload answers, before the time of the calls it makes. */
export interface Behaviour {
  /** Own processing time: log-normal median (ms) and shape. */
  readonly medianMs: number;
  readonly sigma: number;
  /** A share of requests is slower by `slowFactor` (a GC pause, a cold cache): the tail p99 shows. */
  readonly slowRate: number;
  readonly slowFactor: number;
  /** Share answered with `errorCode` (5xx: failures). */
  readonly errorRate: number;
  readonly errorCode: number;
  /** Share answered 404 (4xx: still a success). */
  readonly notFoundRate: number;
  /** Response body bytes: log-normal median and shape. */
  readonly responseBytes: number;
  readonly responseSigma: number;
  /** Share of calls to it whose connection fails: only the client's sidecar reports (503, flag UF). */
  readonly connectFailureRate: number;
}

export interface Workload {
  /** Deployment name, e.g. `reviews-v2`: `source.workload.name` / `destination.workload.name`. */
  readonly name: string;
  readonly namespace: string;
  readonly app: string;
  readonly version: string;
  readonly serviceAccount: string;
  /** The one pod's name, `<deployment>-<hash>-<suffix>`. */
  readonly pod: string;
  readonly ip: string;
  /** Absent for a workload that only calls (the ingress gateway). */
  readonly service?: Service;
  readonly behaviour?: Behaviour;
}

const NS = 'default';

function service(name: string, port = 9080): Service {
  return { name, namespace: NS, host: `${name}.${NS}.svc.cluster.local`, port };
}

function behaviour(b: Partial<Behaviour> & Pick<Behaviour, 'medianMs' | 'responseBytes'>): Behaviour {
  return { sigma: 0.4, slowRate: 0.01, slowFactor: 6, errorRate: 0.002, errorCode: 500, notFoundRate: 0, responseSigma: 0.2, connectFailureRate: 0, ...b };
}

function workload(app: string, version: string, pod: string, ip: string, svc: Service, b: Behaviour): Workload {
  return { name: `${app}-${version}`, namespace: NS, app, version, serviceAccount: `bookinfo-${app}`, pod, ip, service: svc, behaviour: b };
}

const PRODUCTPAGE = service('productpage');
const DETAILS = service('details');
const REVIEWS = service('reviews');
const RATINGS = service('ratings');

export interface Bookinfo {
  readonly gateway: Workload;
  readonly productpage: Workload;
  readonly details: Workload;
  readonly reviews: readonly [Workload, Workload, Workload];
  readonly ratings: Workload;
  readonly all: readonly Workload[];
}

function bookinfo(): Bookinfo {
  const gateway: Workload = {
    name: 'istio-ingressgateway',
    namespace: 'istio-system',
    app: 'istio-ingressgateway',
    version: 'unknown',
    serviceAccount: 'istio-ingressgateway-service-account',
    pod: 'istio-ingressgateway-6b5b6c8f4-2qxkp',
    ip: '10.44.0.2',
  };
  const productpage = workload('productpage', 'v1', 'productpage-v1-7d6cfb7dfd-x2l4k', '10.44.0.10', PRODUCTPAGE, behaviour({ medianMs: 6, errorRate: 0.003, notFoundRate: 0.005, responseBytes: 5100, responseSigma: 0.05 }));
  const details = workload('details', 'v1', 'details-v1-c5b5f496d-h4q8n', '10.44.0.11', DETAILS, behaviour({ medianMs: 1.8, sigma: 0.45, errorRate: 0.005, errorCode: 503, responseBytes: 178, responseSigma: 0.01 }));
  const reviews: [Workload, Workload, Workload] = [
    workload('reviews', 'v1', 'reviews-v1-54b8794ddf-5jbgq', '10.44.0.12', REVIEWS, behaviour({ medianMs: 4, errorRate: 0.002, responseBytes: 295 })),
    workload('reviews', 'v2', 'reviews-v2-c4d6568f9-bd2rj', '10.44.0.13', REVIEWS, behaviour({ medianMs: 5, errorRate: 0.005, responseBytes: 375 })),
    // v3 is the slow, flaky one, so the table has something to notice.
    workload('reviews', 'v3', 'reviews-v3-7d94d58566-tq4v7', '10.44.0.14', REVIEWS, behaviour({ medianMs: 9, sigma: 0.5, slowRate: 0.03, errorRate: 0.02, responseBytes: 375 })),
  ];
  const ratings = workload('ratings', 'v1', 'ratings-v1-7f99676f88-8d4mp', '10.44.0.15', RATINGS, behaviour({ medianMs: 1.2, sigma: 0.5, errorRate: 0.01, errorCode: 503, responseBytes: 48, responseSigma: 0.01, connectFailureRate: 0.002 }));
  return { gateway, productpage, details, reviews, ratings, all: [gateway, productpage, details, ...reviews, ratings] };
}

export const BOOKINFO: Bookinfo = bookinfo();
