# Aliases of the package.json scripts (the real interface, so the two cannot drift), plus set-up.
# `make` alone lists the targets.
.PHONY: help setup consul traefik jaeger up up-cluster cert status kill start display trace ftgo test generate lint typecheck bench clean
.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{ printf "  make %-10s %s\n", $$1, $$2 }'

setup: ## install what `make up` needs: npm dependencies, nats-server, Jaeger (built from source the first time; TRACING=off skips it)
	@bash scripts/setup.sh

consul: ## build the Consul agent v1.16.3 (MPL-2.0) from source into .tools/bin/consul (~13 min the first time)
	@bash scripts/consul.sh

traefik: ## build Traefik v3.6.12 (MIT), the router of DISCOVERY=server, into .tools/bin/traefik (~10 min the first time)
	@bash scripts/traefik.sh

jaeger: ## build Jaeger v1.75.0 (Apache-2.0), the traces back-end of `make up`, into .tools/bin/jaeger (~10 min the first time)
	@bash scripts/jaeger.sh

up: setup ## run the whole mesh here, logs in this terminal; Ctrl-C stops it (SECURE=1: mTLS and broker permissions; REGISTRY=consul: on a Consul agent; DISCOVERY=server: through Traefik)
	npm start

up-cluster: setup ## `make up` scaled out: two instances of every service, each service a schema of one PostgreSQL server, a three-node NATS cluster with three replicas per stream
	SCALE=2 NATS_NODES=3 DATABASE=postgres npm start

cert: ## a client certificate of the mesh CA for you, to call SECURE=1 services with grpcurl (NAME=c-1001: the consumer you act as)
	@bash scripts/pki.sh cert $(or $(NAME),$(error name the certificate: make cert NAME=c-1001))

status: ## every process of the running `make up`: pid, state (ready, exited: how), restarts
	npm run mesh -- status

kill: ## crash one process of the running `make up` (SVC=kitchen; SIGKILL): the rest keep running
	npm run mesh -- kill $(or $(SVC),$(error name the process: make kill SVC=kitchen))

start: ## start a process of the running `make up` again (SVC=kitchen)
	npm run mesh -- start $(or $(SVC),$(error name the process: make start SVC=kitchen))

display: ## a restaurant's live kitchen display (RESTAURANT=r-1 by default); Ctrl-C stops it
	npm run kitchen-display -- $(or $(RESTAURANT),r-1)

trace: ## every message the services sent for an order, its sagas, and its trace from Jaeger (ORDER=<id>; reads DATA_DIR)
	npm run trace -- "$(ORDER)"

ftgo: ## build the Go CLI into go/bin/ftgo (go/bin/ftgo help)
	@bash scripts/build-go.sh ftgo

test: ## type-check and run every test (VITEST_ARGS="…" passes options to vitest)
	@bash scripts/setup.sh --with-test-tools
	npm test -- $(VITEST_ARGS)

generate: ## regenerate gen/ts and gen/go from proto/ (buf generate, both templates)
	npm run generate

lint: ## biome check and buf lint
	npm run lint

typecheck: ## tsc --noEmit over every package
	npm run typecheck

bench: ## run the benchmarks
	npm run bench

clean: ## delete ./data (SQLite files, the NATS store and data/postgres of `make up`)
	rm -rf data
