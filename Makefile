.PHONY: run test lint format check-deploy

run:
	python3 scripts/dev.py run

test:
	python3 scripts/dev.py test

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format:
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

check-deploy:
	REGISTRE_ENV=production SECRET_KEY=$$(python3 -c 'import secrets;print(secrets.token_urlsafe(50))') \
	IDENTIFIER_HASH_KEY=$$(python3 -c 'import secrets;print(secrets.token_urlsafe(50))') \
	ALLOWED_HOSTS=registre.example.test SITE_URL=https://registre.example.test \
	.venv/bin/python manage.py check --deploy --fail-level WARNING
