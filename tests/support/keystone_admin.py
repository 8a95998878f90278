#!/usr/bin/python3
"""Admin chores on a loopback Keystone for tests and the quickstart (Debian's keystoneclient).

Credentials come from the OS_* variables of keystone.sh's admin-openrc.
  keystone_admin.py endpoint URL                      image service in the catalog at URL (created or updated)
  keystone_admin.py user PROJECT USER PASSWORD ROLE   project and user with ROLE on it (idempotent)
  keystone_admin.py token USER PASSWORD PROJECT       prints a project-scoped token for USER
"""
import os
import sys

from keystoneauth1 import session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client


def admin():
    e = os.environ
    auth = v3.Password(auth_url=e["OS_AUTH_URL"], username=e["OS_USERNAME"], password=e["OS_PASSWORD"],
                       project_name=e["OS_PROJECT_NAME"], user_domain_id="default", project_domain_id="default")
    return client.Client(session=session.Session(auth=auth), interface="public")


def first(items):
    return items[0] if items else None


def endpoint(url):
    ks = admin()
    svc = first(ks.services.list(type="image")) or ks.services.create("glint", "image", description="glint image service")
    for iface in ("public", "internal", "admin"):
        ep = first(ks.endpoints.list(service=svc, interface=iface, region="RegionOne"))
        if ep is None:
            ks.endpoints.create(svc, url, interface=iface, region="RegionOne")
        elif ep.url != url:
            ks.endpoints.update(ep, url=url)


def user(project_name, user_name, password, role_name):
    ks = admin()
    project = first(ks.projects.list(name=project_name, domain="default")) or ks.projects.create(project_name, "default")
    u = first(ks.users.list(name=user_name, domain="default"))
    if u is None:
        u = ks.users.create(user_name, domain="default", default_project=project, password=password)
    else:
        ks.users.update(u, password=password)
    role = first(ks.roles.list(name=role_name)) or ks.roles.create(role_name)
    ks.roles.grant(role, user=u, project=project)


def token(user_name, password, project_name):
    auth = v3.Password(auth_url=os.environ["OS_AUTH_URL"], username=user_name, password=password,
                       project_name=project_name, user_domain_id="default", project_domain_id="default")
    print(session.Session(auth=auth).get_token())


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"endpoint": endpoint, "user": user, "token": token}[cmd](*args)
