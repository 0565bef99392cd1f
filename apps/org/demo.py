"""Demo organisation for `seed_demo`: about 20 units over customer layers 0-3 and N employees with managers."""

from __future__ import annotations

import random
from dataclasses import dataclass

from .constants import JobFunction, JobLevel
from .models import Employee, JourneyStage, OrgUnit, Touchpoint

# (code, name, parent code, customer layer, function of most members)
UNITS: list[tuple[str, str, str | None, int, JobFunction]] = [
    ("acme", "Acme Hotels & Services", None, 3, JobFunction.OPERATIONS),
    ("guest-experience", "Guest Experience", "acme", 0, JobFunction.SUPPORT),
    ("front-desk", "Front Desk", "guest-experience", 0, JobFunction.SUPPORT),
    ("contact-centre", "Contact Centre", "guest-experience", 0, JobFunction.SUPPORT),
    ("concierge", "Concierge", "guest-experience", 0, JobFunction.SUPPORT),
    ("sales", "Sales", "acme", 0, JobFunction.SALES),
    ("corporate-sales", "Corporate Sales", "sales", 0, JobFunction.SALES),
    ("account-management", "Account Management", "sales", 0, JobFunction.SUCCESS),
    ("digital", "Digital Products", "acme", 1, JobFunction.ENGINEERING),
    ("booking-platform", "Booking Platform", "digital", 1, JobFunction.ENGINEERING),
    ("mobile-app", "Mobile App", "digital", 1, JobFunction.ENGINEERING),
    ("product-management", "Product Management", "digital", 1, JobFunction.PRODUCT),
    ("operations", "Hotel Operations", "acme", 1, JobFunction.OPERATIONS),
    ("housekeeping", "Housekeeping", "operations", 1, JobFunction.OPERATIONS),
    ("procurement", "Procurement", "operations", 2, JobFunction.OPERATIONS),
    ("it-services", "IT Services", "acme", 2, JobFunction.IT),
    ("finance", "Finance", "acme", 2, JobFunction.FINANCE),
    ("billing", "Billing & Invoicing", "finance", 1, JobFunction.FINANCE),
    ("people", "People & Culture", "acme", 3, JobFunction.HR),
    ("legal", "Legal & Compliance", "acme", 3, JobFunction.LEGAL),
]

STAGES = [
    ("discover", "Discover", ["website", "social-media"]),
    ("book", "Book", ["booking-engine", "sales-call"]),
    ("stay", "Stay", ["check-in", "room", "concierge-desk"]),
    ("get-help", "Get help", ["support-chat", "phone-line"]),
    ("pay", "Pay", ["invoice", "corporate-billing-portal"]),
]

FIRST = (
    "Dana Aiko Bruno Chloe Dev Elena Farid Grace Hugo Ines Jonas Kemi Lena Malik Nora Omar Priya Quinn Rosa "
    "Sami Tara Ugo Vera Wen Xavier Yara Zoe Ana Ben Carla Diego Emma Felix Gita Hana Ivan Jade Kai Lucia Marco"
).split()
LAST = (
    "Okafor Martin Silva Novak Haddad Kim Larsen Rossi Dubois Tanaka Müller Costa Nowak Ibrahim Walsh Moreau "
    "Berg Singh Ortiz Fischer Sato Byrne Keller Petrov Mensah Laurent Ali Hansen Romero Weber"
).split()
# The demo's employee login (`dana`) is the first member of the front desk, always called Dana.
DEMO_EMPLOYEE_FIRST_NAME = "Dana"
TIMEZONES = ["Europe/Paris", "Europe/London", "America/New_York", "Asia/Singapore", "Europe/Berlin"]
LEVELS_BY_WEIGHT = [
    (JobLevel.ENTRY, 20),
    (JobLevel.PROFESSIONAL, 40),
    (JobLevel.SENIOR, 25),
    (JobLevel.LEAD, 15),
]


@dataclass(slots=True)
class OrgSeed:
    """What the org seeding created, for later seeders to build on."""

    units: dict[str, OrgUnit]
    employees: list[Employee]
    heads: dict[str, Employee]


def seed_org(*, employees: int, rng: random.Random) -> OrgSeed:
    """Create the demo org units, journey, touchpoints and `employees` people with a manager each."""
    units: dict[str, OrgUnit] = {}
    for code, name, parent_code, layer, _function in UNITS:
        units[code] = OrgUnit.objects.create(
            code=code,
            name=name,
            parent=units[parent_code] if parent_code else None,
            customer_layer=layer,
            description=f"{name}: customer layer {layer}.",
        )
    for order, (code, name, touchpoints) in enumerate(STAGES):
        stage = JourneyStage.objects.create(code=code, name=name, order=order)
        for tp in touchpoints:
            Touchpoint.objects.create(code=tp, name=tp.replace("-", " ").capitalize(), stage=stage)

    # One head per unit (reporting to the parent unit's head), then members spread over the units.
    people: list[Employee] = []
    heads: dict[str, Employee] = {}
    number = 0

    def make(unit_code: str, level: str, function: str, manager: Employee | None, first_name: str = "") -> Employee:
        nonlocal number
        number += 1
        # Draw the name even when it is given, so the rest of the company stays the same for a given seed.
        first, last = rng.choice(FIRST), rng.choice(LAST)
        first = first_name or first
        return Employee(
            employee_number=f"E{number:05d}",
            full_name=f"{first} {last}",
            email=f"{first.lower()}.{last.lower().replace('ü', 'u')}.{number}@acme.example",
            org_unit=units[unit_code],
            job_level=level,
            job_function=function,
            manager=manager,
            timezone=rng.choice(TIMEZONES),
        )

    for code, _name, parent_code, _layer, function in UNITS:
        level = (
            JobLevel.EXECUTIVE
            if parent_code is None
            else (JobLevel.DIRECTOR if parent_code == "acme" else JobLevel.MANAGER)
        )
        head = make(code, level, function, heads.get(parent_code) if parent_code else None)
        head.save()
        heads[code] = head
        people.append(head)

    levels = [level for level, _ in LEVELS_BY_WEIGHT]
    weights = [weight for _, weight in LEVELS_BY_WEIGHT]
    leaf_codes = [code for code, *_ in UNITS if code != "acme"]
    functions = {u[0]: u[4] for u in UNITS}
    count = max(0, employees - len(heads))
    # The front desk always has a few people: the demo personas and showcase cases live there.
    codes = ["front-desk"] * min(6, count) + [rng.choice(leaf_codes) for _ in range(count - min(6, count))]
    members = [
        make(
            code,
            rng.choices(levels, weights)[0],
            functions[code],
            heads[code],
            first_name=DEMO_EMPLOYEE_FIRST_NAME if index == 0 and code == "front-desk" else "",
        )
        for index, code in enumerate(codes)
    ]
    # bulk_create keeps `seed_demo --employees 50000` quick; the seed is recorded as one audit event by the caller.
    people.extend(Employee.objects.bulk_create(members, batch_size=1000))
    return OrgSeed(units=units, employees=people, heads=heads)
