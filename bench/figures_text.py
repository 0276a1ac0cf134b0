"""What BENCHMARKS.md says of each figure's method, and of what limits the targets missed (French)."""

BASELINE = (
    "Les processus de la campagne (projet d'accueil et parcours volontaire, {tasks} tâches utilisateur "
    "par instance, avec passerelles, scripts, tables DMN et tâches de service) exécutés entièrement en "
    "mémoire par SpiffWorkflow 3.2 seul : ni base de données, ni web, ni validation de formulaire, le "
    "moteur de scripts de SpiffWorkflow et des résultats fixes pour les tâches de service. {instances} "
    "instances par exécution. C'est le plancher auquel nos coûts se comparent ; le coût d'une tâche est "
    "`add_data_from_form` + `run` + `do_engine_steps`."
)

COMPLETION = (
    "Chaque complétion est celle d'une requête, dans sa propre session : lecture de la tâche, des autres "
    "tâches prêtes et de l'instance (avec sa version), contrôle du rôle et du périmètre, validation du "
    "formulaire (JSON Schema et règles des gestionnaires de tâches), exécution de la tâche et des étapes "
    "moteur (vrais gestionnaires de tâches de service, DMN, scripts sous RestrictedPython), compaction de "
    "l'historique, écriture de l'état, de la table des tâches et de l'événement d'audit en une transaction. "
    "Toutes les tâches de la campagne entière sont mesurées, instance après instance à chaque étape. Le "
    "rendu PDF du contrat (WeasyPrint) est remplacé par un PDF fixe, comme la référence remplace tous les "
    "gestionnaires ; il est mesuré à part. Le rapport compare les médianes, la référence étant mesurée "
    "juste avant chaque exécution. Requêtes SQL comptées au niveau du curseur."
)

HISTORY = (
    "Une instance de longue durée boucle sur une tâche utilisateur (bench/loop/bench_loop.bpmn : un "
    "entretien de suivi répété jusqu'à la fin de mission). On compare la {late}e complétion à la 10e, par "
    "paires pour neutraliser le bruit de la machine : {samples} fois, la 10e complétion d'une instance "
    "neuve puis la complétion suivante de l'instance longue (de la {late}e moins {samples} à la {late}e). "
    "SpiffWorkflow garde toutes les tâches déjà exécutées dans l'arbre de l'instance ; avant chaque "
    "enregistrement, `engine/compaction.py` coupe la chaîne des tâches terminées qui mène aux tâches "
    "vivantes à ses 20 dernières tâches (l'historique lisible reste dans les événements d'audit)."
)

SCALE = (
    "{instances} instances (cinq campagnes, dont la campagne en cours avec une tâche à faire par instance) "
    "et {tasks} tâches accomplies, insérées en masse par des INSERT SQLAlchemy core ; chaque instance "
    "porte un état moteur réel de projet d'accueil à mi-parcours. Temps serveur mesuré dans le processus, "
    "sans réseau : la requête du moteur seule, puis la requête entière à travers l'application Flask "
    "(authentification, requêtes, rendu). {calls} appels par vue après deux appels d'échauffement. La "
    "boîte de réception est celle du gestionnaire d'une Urogec de douze départements ; la page de "
    "dossier, une de ses instances avec son historique ; les comptes, ceux du gestionnaire national "
    "(toutes les instances)."
)

HTTP = (
    "`gunicorn 'webapp:create_app()'` avec {workers} workers synchrones sur la boucle locale, "
    "bench/gunicorn_conf.py ajoutant à chaque réponse le nombre de requêtes SQL envoyées. Le générateur "
    "de charge (fils d'exécution et client HTTP de la bibliothèque standard, une connexion par requête) "
    "tourne sur la même machine de deux cœurs. Chaque client complète, avec des jetons d'API, les six "
    "premières tâches de ses propres projets d'accueil (projet, instruction, publication, sélection, "
    "avis du tuteur, dossier du volontaire : tâches de service, DMN et scripts compris ; la tâche du "
    "contrat et son PDF exclues) : aucune réponse autre que 200 n'est admise. Un client seul mesure la "
    "latence vue du client ; {clients} clients pendant {seconds:g} s mesurent le débit soutenu."
)

MEMORY = (
    "Pic de mémoire résidente (VmHWM lu dans /proc) du plus gros worker gunicorn, pendant un passage "
    "sur les vues de la figure 4 (données à grande échelle) et pendant la charge de la figure 5."
)

DIRECTORY = (
    "Le banc d'essai de l'import de l'annuaire (`bench.directory_import.run`) : un fichier Isidoor "
    "national généré ({establishments} établissements, {people} personnes), importé dans une base vide, "
    "puis importé de nouveau (rien ne doit changer)."
)

LIMITS = [
    "Ce qui limite ces chiffres, d'après les profils (cProfile) d'une complétion :",
    "",
    "- **Rapport à SpiffWorkflow seul (cible 5×).** Une complétion coûte environ 3 à 4 fois une étape en "
    "mémoire pour la seule désérialisation et resérialisation de l'état par le sérialiseur de SpiffWorkflow "
    "(reconstruction de chaque tâche, de ses identifiants et de ses données par deltas), même sans la "
    "spécification du processus dans l'état et avec un historique borné. S'y ajoutent l'ORM SQLAlchemy "
    "(unité de travail, quatre écritures et deux lectures), la validation JSON Schema et les requêtes des "
    "gestionnaires de tâches de service (annuaire, campagne, contrats). Descendre à 5× demanderait de ne "
    "plus recharger l'instance entière à chaque requête (cache d'instances par worker avec contrôle de "
    "version) ou un format d'état propre au lieu de celui de SpiffWorkflow.",
    "- **Latence sur PostgreSQL.** Chaque requête SQL coûte un aller-retour (environ 0,3 ms sur la boucle "
    "locale, plus la vérification de connexion `pool_pre_ping` à chaque requête HTTP) et la validation de "
    "la transaction attend l'écriture du journal sur disque (`synchronous_commit`) : pour neuf requêtes, "
    "c'est déjà plusieurs millisecondes avant tout calcul.",
    "- **Débit HTTP.** Deux cœurs partagés entre quatre workers, PostgreSQL et le générateur de charge : "
    "le débit est borné par le temps processeur d'une complétion (moteur, sérialisation, ORM) ; il "
    "augmente avec le nombre de cœurs, les workers étant sans état partagé.",
]
